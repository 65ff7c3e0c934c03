"""Long cases on pages: a first read, the rest one click away, nothing lost."""

from __future__ import annotations

import re

from rca.api.web.routes import templates
from rca.text.excerpt import EXCERPT_CHARS, split_excerpt

NARRATIVE = " ".join(f"word{i}" for i in range(400))  # ~3,200 characters, like a CFPB narrative


def test_a_long_text_is_cut_at_a_space_and_nothing_is_lost() -> None:
    head, rest = split_excerpt(NARRATIVE)
    assert 0 < len(head) <= EXCERPT_CHARS and rest
    assert f"{head} {rest}" == NARRATIVE  # cut at a word boundary, every word kept
    assert not head.endswith(" ") and not rest.startswith(" ")


def test_a_short_text_or_a_short_tail_is_not_folded() -> None:
    assert split_excerpt("Card never arrived") == ("Card never arrived", "")
    just_over = "x " * int(EXCERPT_CHARS * 0.6)  # a tail of a few words is shown, not hidden
    assert split_excerpt(just_over)[1] == ""
    assert split_excerpt(None) == ("", "")  # type: ignore[arg-type]
    token = "y" * (EXCERPT_CHARS * 2)  # one token longer than the limit: cut inside it
    head, rest = split_excerpt(token)
    assert len(head) == EXCERPT_CHARS and head + rest == token


def test_pages_show_the_first_read_and_the_rest_behind_a_summary() -> None:
    macro = templates.env.from_string(
        '{% from "_case_text.html" import case_text %}{{ case_text(text) }}'
    )
    html = macro.render(text=NARRATIVE)
    head, rest = split_excerpt(NARRATIVE)
    assert html.startswith(f"<p>{head}…</p><details")
    more = re.search(r"<summary>Read the rest \((\d+) more words\)</summary>", html)
    assert more and int(more.group(1)) == len(rest.split())
    assert f"<p>…{rest}</p></details>" in html
    short = macro.render(text="Refund <not> showing")  # escaped, and not folded
    assert short == "<p>Refund &lt;not&gt; showing</p>"
