"""The Model page's metrics, read as a person reads them."""

from __future__ import annotations

from rca.api.web.model_facts import FIRST_FIT, metric_sections


def _rows(sections: list[dict]) -> dict[str, dict]:
    return {r["key"]: r | {"section": s["name"]} for s in sections for r in s["rows"]}


def test_known_metrics_get_a_label_a_unit_and_a_section_and_unknown_ones_stay() -> None:
    metrics = {
        "n_contacts": 2827.0, "unassigned_fraction": 0.002476, "id_stability": 0.9812,
        "themes_restored": 0.0, "fit_seconds_vote": 6.738, "fit_seconds_merge": 0.001587,
        "embed_texts_per_s": 8.54, "brand_new_metric": 1.23456,
    }  # fmt: skip
    sections = metric_sections(metrics)
    rows = _rows(sections)
    assert rows["n_contacts"]["value"] == "2,827"
    assert rows["n_contacts"]["label"] == "Contacts fitted"
    assert rows["unassigned_fraction"]["value"] == "0.2 %"
    assert rows["id_stability"]["value"] == "98.1 %"
    assert rows["themes_restored"]["section"] == "Across refits"
    assert rows["fit_seconds_vote"]["value"] == "6.7 s"
    assert rows["fit_seconds_merge"]["value"] == "0.002 s"
    assert rows["embed_texts_per_s"]["value"] == "8.5 texts/s"
    assert rows["brand_new_metric"] == {
        "label": "brand_new_metric", "value": "1.235", "key": "brand_new_metric",
        "section": "Other",
    }  # fmt: skip
    assert set(rows) == set(metrics)  # nothing the run logged is hidden
    names = [s["name"] for s in sections]
    assert names == ["Data", "Themes", "Across refits", "Time", "Other"]


def test_a_first_fit_says_there_was_nothing_to_carry_instead_of_a_column_of_zeros() -> None:
    sections = metric_sections({"n_themes": 16.0, "themes_restored": 0.0, "themes_held": 0.0})
    refits = next(s for s in sections if s["name"] == "Across refits")
    assert refits["note"] == FIRST_FIT and refits["rows"] == []
    assert {r["key"] for s in sections for r in s["rows"]} == {"n_themes"}
