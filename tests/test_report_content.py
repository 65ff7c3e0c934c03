"""The report's pure core: ordering, wording, bands, cases, both parts and the MIME shape."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from rca.report.charts import render_chart
from rca.report.content import (
    baseline_band,
    build_report,
    make_case,
    make_chart,
    spike_order,
    subject_for,
)
from rca.report.job import compose, parse_recipients, render_report
from rca.settings import Settings

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
START = datetime(2026, 11, 16, tzinfo=UTC)
END = datetime(2026, 11, 23, tzinfo=UTC)


def _spike(theme_id: str, severity: str, q: float, kind: str = "burst", **extra) -> dict:
    return {
        "theme_id": theme_id, "label": f"label {theme_id}", "kind": kind, "severity": severity,
        "observed": 130, "expected": 80.0, "excess": 50.0, "growth": 1.6, "q_value": q,
        "first_seen": datetime(2026, 11, 2, tzinfo=UTC),
        "root_cause": {"sentence": f"cause of {theme_id}", "explanations": []}, **extra,
    }  # fmt: skip


def _payload(spikes: list[dict]) -> dict:
    return {"period": "2026-W47", "period_kind": "week", "period_start": START,
            "period_end": END, "model_version": "m1", "spikes": spikes, "note": ""}  # fmt: skip


def _driver(rank: int, status: object = float("nan")) -> dict:
    return {"rank": rank, "theme_id": f"D{rank}", "label": f"driver {rank}", "score": 0.5,
            "summary": f"summary {rank}", "spike_status": status,
            "figures": {"repeat_contacts": 10 + rank, "repeat_rate": 0.2}}  # fmt: skip


def test_spikes_are_ordered_by_severity_then_q_value() -> None:
    spikes = [_spike("A", "low", 1e-9), _spike("B", "medium", 1e-3), _spike("C", "high", 1e-5),
              _spike("D", "medium", 1e-6)]  # fmt: skip
    assert [s["theme_id"] for s in spike_order(spikes)] == ["C", "D", "B", "A"]


def test_subject_names_the_count_and_period() -> None:
    assert subject_for(3, 0, "week 2026-W46") == "rca: 3 emerging spikes, week 2026-W46"
    one = "rca: 1 emerging spike (1 new theme), week 2026-W46"
    assert subject_for(1, 1, "week 2026-W46") == one
    assert subject_for(0, 0, "day 2026-11-20") == "rca: all quiet, day 2026-11-20"


def test_baseline_band_ignores_the_recent_build_up() -> None:
    counts = [10, 12, 8, 10, 11, 9, 40, 80, 120]
    low, high = baseline_band(counts, recent=3)
    assert 5 < low < 10 < high < 15  # from the six quiet periods only
    wide_low, wide_high = baseline_band(counts)
    assert wide_high > 60  # everything before the last period: the ramp widens the band
    assert baseline_band([5]) == (0.0, 0.0)


def test_cases_are_redacted_again_and_lose_signature_names() -> None:
    record = {"contact_id": "C1", "created_at": NOW, "channel": "email", "is_escalation": True,
              "text": "Mail me at jo.bloggs@example.com or +44 7700 900123, card "
                      "4111 1111 1111 1111.\n\nRegards,\nSam Jones"}  # fmt: skip
    case = make_case(record, min_digit_run=6)
    assert "example.com" not in case.text and "4111" not in case.text
    assert "7700" not in case.text and "Sam" not in case.text
    assert case.text.endswith("Regards, [NAME]")
    assert case.created_at == "2026-11-23" and case.escalated


def test_a_case_is_dated_by_the_services_day_not_utcs() -> None:
    """CFPB complaint 6955609, received 05/09/23, date-only, read in London: stored 8 May
    23:00 UTC. The e-mail said 2023-05-08; the export, the deep dive and the status say the 9th."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    stored = datetime(2023, 5, 8, 23, tzinfo=UTC)
    record = {"contact_id": "6955609", "created_at": stored, "channel": "web", "text": "Loan."}
    case = make_case(record, min_digit_run=6, tz=ZoneInfo("Europe/London"))
    assert case.created_at == "2023-05-09"
    assert make_case(record, min_digit_run=6).created_at == "2023-05-08"  # no zone: UTC's day


def _model(spikes: list[dict], drivers: list[dict] | None = None):
    charts = {
        s["theme_id"]: make_chart([f"2026-W{w}" for w in range(36, 48)],
                                  [10] * 9 + [20, 40, 60], s["expected"], recent=4)
        for s in spikes
    }  # fmt: skip
    return build_report(_payload(spikes), drivers or [], base_url="https://rca.example.com/",
                        generated_at=NOW, charts=charts)  # fmt: skip


def test_build_report_splits_new_themes_and_links_to_the_service() -> None:
    model = _model(
        [_spike("A", "medium", 1e-3), _spike("N", "high", 1e-8, kind="new_theme")],
        [_driver(1), _driver(2, "burst (medium)")],
    )
    assert [s.theme_id for s in model.spikes] == ["A"]
    assert [s.theme_id for s in model.new_themes] == ["N"]
    assert model.subject == "rca: 2 emerging spikes (1 new theme), week 2026-W47"
    assert model.spikes[0].link == "https://rca.example.com/v1/themes/A"
    assert model.spikes[0].examples_link.endswith("/v1/themes/A/examples")
    assert [d.spike_status for d in model.drivers] == [None, "burst (medium)"]
    assert model.date_range == "16–22 Nov 2026"


def test_both_parts_carry_the_same_facts_and_the_html_is_mail_safe() -> None:
    spikes = [_spike("A", "high", 1e-6, label="<b>Card</b> & payment")]
    rendered = render_report(_model(spikes, [_driver(1)]))
    for part in (rendered.text, rendered.html):
        assert "cause of A" in part and "130" in part and "×1.6" in part and "summary 1" in part
        assert "https://rca.example.com/v1/themes/A" in part
    html = rendered.html
    assert "&lt;b&gt;Card&lt;/b&gt; &amp; payment" in html  # escaped, not markup
    assert not re.search(r"<(script|style|link|iframe|form)\b", html, re.IGNORECASE)
    assert 'src="chart-A.png"' in html and set(rendered.images) == {"chart-A.png"}
    assert rendered.images["chart-A.png"].startswith(b"\x89PNG")


def test_quiet_report_is_short() -> None:
    rendered = render_report(_model([], [_driver(1)]))
    assert rendered.model.subject == "rca: all quiet, week 2026-W47"
    assert "All quiet" in rendered.text and "All quiet" in rendered.html
    assert "NEW THEMES" not in rendered.text and not rendered.images


def test_chart_is_a_small_png() -> None:
    chart = make_chart([f"2026-W{w}" for w in range(36, 48)], list(range(12)), 5.0, recent=4)
    png = render_chart(chart, title="t")
    assert png.startswith(b"\x89PNG") and len(png) < 40_000


def test_message_is_alternative_with_related_inline_images(tmp_path) -> None:
    settings = Settings(home=tmp_path, report_from="rca@reports.example.com")
    model = _model([_spike("A", "high", 1e-6), _spike("B", "low", 1e-2)])
    msg, _rendered = compose(model, settings, ["pm@example.com"], NOW)
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    text_part, related = parsed.get_payload()
    assert text_part.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    cids = {i["Content-ID"].strip("<>") for i in images}
    assert len(cids) == 2 and all(i.get_content_type() == "image/png" for i in images)
    assert set(re.findall(r'src="cid:([^"]+)"', html_part.get_content())) == cids
    assert parsed["Message-ID"].endswith("@reports.example.com>")


@pytest.mark.parametrize("bad", ["nobody", "a@b", "a b@example.com"])
def test_recipients_are_checked(bad: str) -> None:
    from rca.errors import RcaError

    assert parse_recipients(" a@example.com, B@Example.com ,") == ["a@example.com", "B@Example.com"]
    with pytest.raises(RcaError):
        parse_recipients(bad)


def test_a_volume_surge_leads_the_message_even_with_no_theme_spike() -> None:
    payload = _payload([]) | {
        "total": {"observed": 600, "expected": 250.0, "growth": 2.4, "severity": "high",
                  "alert": True, "root_cause": {"sentence": "62% of the excess comes from "
                                                "parent_group=Billing / Pricing."}},
    }  # fmt: skip
    model = build_report(payload, [], base_url="https://rca.example.com/", generated_at=NOW)
    assert not model.quiet and model.subject == "rca: volume surge, week 2026-W47"
    rendered = render_report(model)
    for part in (rendered.text, rendered.html):
        assert "parent_group=Billing / Pricing" in part and "600" in part
        # the surge comes before anything else the message says
        assert part.index("600") < part.index("Model m1" if part is rendered.html else "--\n")
    assert subject_for(2, 0, "week 2026-W47", surge=True) == (
        "rca: volume surge and 2 emerging spikes, week 2026-W47"
    )


def test_drivers_without_customer_ids_do_not_claim_zero_repeats() -> None:
    driver = _driver(1) | {"summary": "40 contacts; 3 escalated; 1.0 h of handle time."}
    model = build_report(_payload([]), [driver], base_url="https://rca.example.com/",
                         generated_at=NOW, drivers_basis="contacts",
                         drivers_note="no customer ids in this store")  # fmt: skip
    rendered = render_report(model)
    for part in (rendered.text, rendered.html):
        assert "repeat contacts" not in part and "no customer ids in this store" in part
    assert "REPEAT-COMPLAINT" not in rendered.text
    assert "THEMES BY CONTACTS, ESCALATIONS, HANDLE TIME AND GROWTH" in rendered.text


def test_a_spiking_theme_s_note_is_beside_it_in_both_parts() -> None:
    note = "Mostly one company: Wells Fargo (86% of its texts)"
    model = build_report(_payload([_spike("A", "high", 1e-6), _spike("B", "low", 1e-3)]), [],
                         base_url="https://rca.example.com/", generated_at=NOW,
                         notes={"A": note, "B": float("nan")})  # fmt: skip
    rendered = render_report(model)
    for part in (rendered.text, rendered.html):
        assert part.count("Wells Fargo") == 1
        assert not re.search(r"\bnan\b", part, re.IGNORECASE)


def test_a_driver_s_theme_note_is_beside_it_in_both_parts() -> None:
    note = "Template text: 57% of its texts quote the passage “consumer reporting agency …”"
    noted = _driver(1) | {"description": note}
    plain = _driver(2) | {"description": float("nan")}
    model = build_report(_payload([]), [noted, plain], base_url="https://rca.example.com/",
                         generated_at=NOW, drivers_basis="contacts",
                         drivers_heading="themes by contacts")  # fmt: skip
    rendered = render_report(model)
    assert "THEMES BY CONTACTS\n" in rendered.text
    for part in (rendered.text, rendered.html.replace("&#34;", '"')):
        assert part.count("consumer reporting agency") == 1
        assert not re.search(r"\bnan\b", part, re.IGNORECASE)


def test_vendor_sites_to_look_at_appear_in_both_parts_only_when_there_are_some() -> None:
    line = "Northwind-Cebu on Refund not showing: 107 returns against 60.4 expected (×1.77)"
    model = build_report(_payload([]), [], base_url="https://rca.example.com/",
                         generated_at=NOW, vendor_lines=[line])  # fmt: skip
    rendered = render_report(model)
    assert line in rendered.text and "Northwind-Cebu" in rendered.html
    quiet = render_report(build_report(_payload([]), [], base_url="https://rca.example.com/",
                                       generated_at=NOW))  # fmt: skip
    assert "VENDOR" not in quiet.text and "Vendor sites" not in quiet.html


def test_a_parent_group_driver_lists_its_themes_and_links_to_the_parent_view() -> None:
    group = _driver(1) | {"theme_id": "Refunds", "label": "Refunds", "theme_ids": ["T1", "T2"]}
    model = build_report(_payload([]), [group, _driver(2)], base_url="https://rca.example.com/",
                         generated_at=NOW,
                         theme_names={"T1": "Refund not showing", "T2": "Refund late"})  # fmt: skip
    item, theme = model.drivers
    alone = build_report(
        _payload([]),
        [_driver(3) | {"theme_ids": ["D3"]}],
        base_url="https://rca.example.com/",
        generated_at=NOW,
    ).drivers[0]
    assert alone.themes == () and alone.link.endswith("/v1/themes/D3")  # its own group
    assert item.themes == ("Refund not showing (T1)", "Refund late (T2)")
    assert item.link.endswith("/v1/themes?granularity=parent&period=" + model.period)
    assert theme.themes == () and theme.link.endswith("/v1/themes/D2")
    rendered = render_report(model)
    assert "1. Refunds: " in rendered.text and "(Refunds)" not in rendered.text
    assert "Themes: Refund not showing (T1); Refund late (T2)" in rendered.text
    assert "Refund not showing (T1)" in rendered.html and "2. driver 2 (D2)" in rendered.text


def test_open_taxonomy_proposals_appear_in_both_parts_with_a_link_to_the_page() -> None:
    """A program manager reads the e-mail, not the taxonomy page: the refit's open proposals
    are quoted (at most five, the rest counted) with the page that answers them."""
    lines = [f"{100 + i} contacts of T000{i} 'Card payment' read as a theme of their own: "
             f"'Part {i}' (kw). Held for review, not applied." for i in range(7)]  # fmt: skip
    model = build_report(_payload([]), [], base_url="https://rca.example.com/",
                         generated_at=NOW, taxonomy_proposals=lines)  # fmt: skip
    rendered = render_report(model)
    assert "TAXONOMY TO REVIEW (7 changes the last refit proposed" in rendered.text
    assert lines[0] in rendered.text and lines[4] in rendered.text
    assert lines[5] not in rendered.text and "... and 2 more" in rendered.text
    assert "https://rca.example.com/ui/taxonomy" in rendered.text
    assert "Taxonomy to review" in rendered.html and "(5 shown)" in rendered.html
    assert 'href="https://rca.example.com/ui/taxonomy"' in rendered.html
    one = render_report(build_report(_payload([]), [], base_url="https://rca.example.com/",
                                     generated_at=NOW, taxonomy_proposals=lines[:1]))  # fmt: skip
    assert "1 change the last refit proposed" in one.text and "more" not in one.text
    quiet = render_report(build_report(_payload([]), [], base_url="https://rca.example.com/",
                                       generated_at=NOW))  # fmt: skip
    assert "TAXONOMY" not in quiet.text and "Taxonomy to review" not in quiet.html


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("345 contacts of T0002 'Account was closed' read as a theme of their own: 'Loan "
         "agreement' (loan, payment). Held for review, not applied: `rca taxonomy split T0002 "
         "--proposed` previews this cut, `rca taxonomy keep T0002` declines it, `rca fit "
         "--apply-new-themes` applies the refit's cut",
         "345 contacts of T0002 'Account was closed' read as a theme of their own: 'Loan "
         "agreement' (loan, payment). Held for review, not applied."),
        ("curated theme T0012 'Refund pending' now splits into T0012, T0065: keep it whole "
         "with `rca taxonomy merge T0012 T0065`",
         "curated theme T0012 'Refund pending' now splits into T0012, T0065."),
        ("curated theme T0004 'Hello' has no successor in the refit: its edits no longer apply",
         "curated theme T0004 'Hello' has no successor in the refit: its edits no longer apply"),
    ],
)  # fmt: skip
def test_the_email_words_a_proposal_without_its_commands(message: str, said: str) -> None:
    """A manager answers on the page the section links to; the CLI commands stay in the CLI."""
    model = build_report(_payload([]), [], base_url="https://rca.example.com/",
                         generated_at=NOW, taxonomy_proposals=[message])  # fmt: skip
    assert model.taxonomy_lines == (said,)
    rendered = render_report(model)
    assert said in rendered.text and "`" not in rendered.text
