"""A team's reason codes imported as themes (`rca taxonomy import`, POST /v1/taxonomy/import).

The pure check of a codes table (every bad row named, nothing made while one remains), then a
copy of the fitted demo with the real encoder: a dry run writes nothing and says what the
import then does; the import is one write whose counts agree with the listing; importing the
same file again changes nothing; a created code can be undone; the CLI and the API say the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import copy_home, run_cli

from rca.cluster.reason_codes import (
    LADDER,
    ReasonCode,
    codes_from_labels,
    reason_codes,
    takes_at,
)
from rca.cluster.taxonomy import TaxonomyError
from rca.settings import Settings


@pytest.mark.parametrize(
    ("rows", "options", "message"),
    [
        ({"name": ["Refund late"]}, {}, r"no column 'label' .*columns: name\).*--label-column"),
        ({"label": ["Refund late", "  "]}, {}, r"1 of 2 codes .*line 3: the name is empty"),
        ({"label": ["Refund late", "refund  LATE"]}, {},
         r"line 3: 'refund LATE' is already the name of line 2"),
        ({"label": ["Refund late", "Card declined"], "threshold": ["0.4", "1.5"]}, {},
         r"line 3: threshold '1.5' is not a cosine similarity"),
        ({"label": ["Refund late"], "threshold": ["high"]}, {}, r"threshold 'high'"),
        ({"label": ["x" * 121]}, {}, r"line 2: the name is longer than 120"),
        ({"label": []}, {}, r"holds no reason codes"),
        ({"label": ["Refund late"]}, {"threshold": 0.0}, r"cosine similarity in \(0, 1\]"),
        ({"label": ["A", "A", "B", "B"]}, {"row_word": "code", "first_row": 1},
         r"2 of 4 codes .*code 2: 'A' is already the name of code 1; code 4"),
    ],
)  # fmt: skip
def test_a_bad_codes_table_names_every_bad_row(rows: dict, options: dict, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        reason_codes(pd.DataFrame(rows), **options)


def test_a_codes_table_is_read_with_its_own_headers_and_defaults() -> None:
    frame = pd.DataFrame({
        " Reason Code ": ["Refund not received", "Card declined  abroad"],
        "Definition": ["money back after a return", ""],
        "Threshold": ["", "0.6"],
        "PARENT_GROUP": ["Money", ""],
    })  # fmt: skip
    codes = reason_codes(
        frame, label_column="reason code", description_column="definition", threshold=0.45
    )
    assert [(c.label, c.description, c.threshold, c.parent_group) for c in codes] == [
        ("Refund not received", "money back after a return", 0.45, "Money"),
        ("Card declined abroad", None, 0.6, None),
    ]
    assert codes[0].text == "Refund not received. money back after a return"


def test_the_threshold_ladder_gives_each_contact_to_its_nearest_code_once() -> None:
    codes = np.array([[1.0, 0.0], [0.0, 1.0]])  # A, B
    half = np.sqrt(0.5)
    rows = np.array([
        [1.0, 0.0],    # A at 1.0
        [0.8, 0.6],    # A at 0.8 (B at 0.6 is passed but further)
        [0.6, 0.8],    # B at 0.8
        [half, half],  # a tie: the earlier code, A, at 0.71
        [-1.0, 0.0],   # no code at any threshold
    ])  # fmt: skip
    counts = takes_at(rows, codes, (0.5, 0.75, 0.9))
    assert counts.tolist() == [[3, 2, 1], [1, 1, 0]]
    assert takes_at(rows, codes).shape == (2, len(LADDER))
    assert takes_at(rows[:0], codes).tolist() == [[0] * len(LADDER)] * 2


def test_codes_from_coded_contacts_are_their_mean_and_one_per_spelling() -> None:
    rows = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.8, 0.6]])
    labels = ["Billing", "billing ", "Delivery", "DELIVERY", None, "Billing"]
    ids = [f"C{i}" for i in range(len(rows))]
    made = codes_from_labels(rows, labels, ids, threshold=0.6, min_contacts=2, source="attr x")
    billing, delivery = made.codes
    assert (billing.label, billing.coded, billing.members) == ("Billing", 3, ("C0", "C1", "C5"))
    mean = rows[[0, 1, 5]].mean(0)
    assert np.allclose(billing.centroid, mean / np.linalg.norm(mean))
    assert (billing.threshold, billing.source, billing.description) == (0.6, "attr x", None)
    assert delivery.label in ("Delivery", "DELIVERY") and delivery.coded == 2
    assert np.allclose(delivery.centroid, [0.0, 1.0]) and made.too_few == {}
    fewer = codes_from_labels(rows, labels, ids, min_contacts=3)
    assert [c.label for c in fewer.codes] == ["Billing"] and sum(fewer.too_few.values()) == 2
    with pytest.raises(ValueError, match="one label and one contact id"):
        codes_from_labels(rows, labels[:2], ids)
    with pytest.raises(TaxonomyError, match="min_contacts"):
        codes_from_labels(rows, labels, ids, min_contacts=0)


@pytest.fixture()
def home(fitted_demo: Settings, tmp_path: Path) -> Settings:
    return copy_home(fitted_demo, tmp_path / "home")


def _codes_file(settings: Settings, path: Path) -> tuple[Path, list[dict]]:
    """Two codes worded after the demo's two largest themes, and one about nothing in it."""
    from rca.jobs.curate import taxonomy_listing

    top = sorted(taxonomy_listing(settings)["themes"], key=lambda t: -t["contacts"])[:2]
    pd.DataFrame({
        "Reason": [f"{t['label']} issue" for t in top] + ["Weather on Mars"],
        "Description": [", ".join(t["keywords"][:6]) for t in top] + ["rovers and dust storms"],
        "threshold": ["", "", "0.9"],
    }).to_csv(path, index=False)  # fmt: skip
    return path, top


def test_an_import_is_one_write_that_a_dry_run_foretells_and_a_second_import_leaves_alone(
    home: Settings, tmp_path: Path
) -> None:
    from rca.jobs.curate import apply_edit, taxonomy_history, taxonomy_listing
    from rca.jobs.import_codes import import_reason_codes, read_codes_file

    path, top = _codes_file(home, tmp_path / "codes.csv")
    codes = read_codes_file(path, label_column="reason", description_column="description")
    before = taxonomy_listing(home)
    dry = import_reason_codes(home, codes, dry_run=True)
    assert not dry["changed"] and dry["created"] == 0 and taxonomy_history(home) == []
    assert taxonomy_listing(home)["themes"] == before["themes"]
    assert [c["status"] for c in dry["codes"]] == ["would create"] * 3
    first = dry["codes"][0]
    assert first["contacts"] > 0 and first["from_themes"][0]["theme_id"] == top[0]["theme_id"]
    assert dry["codes"][2]["contacts"] == 0  # nothing in the demo is about Mars
    assert [c["same_name_as"] for c in dry["codes"]] == [None] * 3
    assert dry["notes"] == []  # three codes for a demo of many themes
    for code in dry["codes"]:  # what it would take at other thresholds: fewer the higher
        ladder = [a["contacts"] for a in code["at_thresholds"]]
        assert [a["threshold"] for a in code["at_thresholds"]] == list(LADDER)
        assert ladder == sorted(ladder, reverse=True)
    assert dry["codes"][0]["at_thresholds"][0]["contacts"] > first["contacts"]  # at 0.3
    # two codes for a demo of many themes: the rest keep their contacts, and are listed as such
    sizes = {t["theme_id"]: t["contacts"] for t in before["themes"]}
    left = dry["themes_not_covered"]
    assert len(left) == 10 and {t["theme_id"] for t in left}.isdisjoint({top[0]["theme_id"]})
    assert all(
        sizes[t["theme_id"]] == t["contacts"] and 2 * t["stay"] >= t["contacts"] for t in left
    )
    assert [t["stay"] for t in left] == sorted((t["stay"] for t in left), reverse=True)
    namesake = ReasonCode(top[1]["label"].upper(), None, 0.5)  # a fitted theme's own name
    said = import_reason_codes(home, [namesake], dry_run=True)["codes"][0]
    assert said["same_name_as"] == top[1]["theme_id"] and said["status"] == "would create"
    at = {a["threshold"]: a["contacts"] for a in said["at_thresholds"]}
    assert at[0.5] == said["contacts"] > at[0.7]  # a lone code at its own threshold: the same

    made = import_reason_codes(home, codes, actor="ann", reason="our codes")
    assert made["changed"] and made["created"] == 3 and made["already"] == 0
    assert [c["contacts"] for c in made["codes"]] == [c["contacts"] for c in dry["codes"]]
    after = taxonomy_listing(home)
    themes = {t["theme_id"]: t for t in after["themes"]}
    for code in made["codes"]:
        theme = themes[code["theme_id"]]
        assert theme["label"] == code["label"] and theme["pinned"] and theme["origin"] == "create"
        assert theme["contacts"] == code["contacts"]
    total = sum(t["contacts"] for t in before["themes"])
    assert sum(t["contacts"] for t in after["themes"]) == total  # moved, not added
    log = taxonomy_history(home)
    assert [e["action"] for e in log] == ["create"] * 3
    assert {e["by"] for e in log} == {"ann"} and {e["why"] for e in log} == {"our codes"}

    again = import_reason_codes(home, codes)
    assert not again["changed"] and again["created"] == 0 and again["already"] == 3
    assert [c["at_thresholds"] for c in again["codes"]] == [[]] * 3
    assert [c["theme_id"] for c in again["codes"]] == [c["theme_id"] for c in made["codes"]]
    assert len(taxonomy_history(home)) == 3

    undone = made["codes"][0]
    apply_edit(home, "undo", "", params={"edit_id": log[0]["edit_id"]}, actor="ann")
    restored = {t["theme_id"]: t for t in taxonomy_listing(home)["themes"]}
    assert undone["theme_id"] not in restored
    assert restored[top[0]["theme_id"]]["contacts"] > themes[top[0]["theme_id"]]["contacts"]


def test_a_bad_file_writes_nothing_and_the_cli_says_which_lines(
    home: Settings, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from rca.cli import app, commands  # noqa: F401
    from rca.jobs.curate import taxonomy_history

    bad = tmp_path / "bad.csv"
    bad.write_text("label,threshold\nRefund late,0.5\nrefund late,\nCard declined,2\n")
    out = run_cli("taxonomy", "import", str(bad), home=home.home)  # the real command
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.startswith("error: 2 of 3 codes cannot be made: line 3:")
    assert "line 4: threshold '2'" in out.stderr
    assert taxonomy_history(home) == []

    path, _ = _codes_file(home, tmp_path / "codes.csv")
    args = ["taxonomy", "import", str(path), "--label-column", "Reason", "--home", str(home.home)]
    dry = CliRunner().invoke(app, [*args, "--dry-run", "--format", "json"])
    assert dry.exit_code == 0, dry.output
    body = json.loads(dry.stdout)
    assert body["dry_run"] and body["contacts_taken"] == sum(c["contacts"] for c in body["codes"])
    assert taxonomy_history(home) == []
    made = CliRunner().invoke(app, [*args, "--by", "ann"])
    assert made.exit_code == 0, made.output
    assert "3 themes created" in made.output and len(taxonomy_history(home)) == 3
    assert taxonomy_history(home)[0]["why"] == "reason codes from codes.csv"


def test_the_api_imports_for_writers_and_names_bad_codes(home: Settings, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from rca.api.app import create_app
    from rca.api.auth import hash_key, new_key

    reader, writer = new_key(), new_key()
    settings = copy_home(home, tmp_path / "api", api_keys=[
        f"reader:{hash_key(reader)}:pm", f"writer:{hash_key(writer)}:ann"])  # fmt: skip
    codes = [{"label": "Refund not received", "description": "money back after a return"},
             {"label": "Weather on Mars", "threshold": 0.95}]  # fmt: skip
    with TestClient(create_app(settings, background=False)) as client:
        denied = client.post("/v1/taxonomy/import", json={"codes": codes},
                             headers={"X-API-Key": reader})  # fmt: skip
        assert denied.status_code == 403
        twice = client.post("/v1/taxonomy/import", headers={"X-API-Key": writer},
                            json={"codes": [codes[0], codes[0]]})  # fmt: skip
        assert twice.status_code == 400 and "code 2" in twice.text
        dry = client.post("/v1/taxonomy/import", headers={"X-API-Key": writer},
                          json={"codes": codes, "dry_run": True})  # fmt: skip
        assert dry.status_code == 200, dry.text
        assert [c["status"] for c in dry.json()["codes"]] == ["would create"] * 2
        ladder = dry.json()["codes"][0]["at_thresholds"]
        assert [a["threshold"] for a in ladder] == list(LADDER) and ladder[0]["contacts"] > 0
        made = client.post("/v1/taxonomy/import", headers={"X-API-Key": writer},
                           json={"codes": codes, "why": "our codes"})  # fmt: skip
        assert made.status_code == 200, made.text
        body = made.json()
        assert body["created"] == 2
        assert [c["contacts"] for c in body["codes"]] == [
            c["contacts"] for c in dry.json()["codes"]
        ]
        both = client.post("/v1/taxonomy/import", headers={"X-API-Key": writer},
                           json={"codes": codes, "from_attribute": "product_area"})  # fmt: skip
        assert both.status_code == 400 and "one of the two" in both.text
        attr = client.post("/v1/taxonomy/import", headers={"X-API-Key": writer},
                           json={"from_attribute": "product_area", "dry_run": True})  # fmt: skip
        assert attr.status_code == 200, attr.text
        assert all(c["coded"] >= 5 for c in attr.json()["codes"])
        listing = client.get("/v1/taxonomy", headers={"X-API-Key": reader}).json()
        labels = {t["theme_id"]: t["label"] for t in listing["themes"]}
        assert all(labels[c["theme_id"]] == c["label"] for c in body["codes"])
        history = client.get("/v1/taxonomy/history", headers={"X-API-Key": reader}).json()
        assert {e["by"] for e in history["edits"]} == {"ann"}


def test_codes_made_from_an_attribute_of_the_contacts(home: Settings, tmp_path: Path) -> None:
    """The demo's product_area stands in for a CRM disposition: a code per value, made from
    the contacts carrying it; the output says how many of them each code takes."""
    from rca.errors import NotFoundError
    from rca.jobs.curate import taxonomy_history
    from rca.jobs.import_codes import codes_from_attribute, import_reason_codes

    with pytest.raises(NotFoundError, match=r"no attribute 'reason'.*product_area"):
        codes_from_attribute(home, "reason")
    coded = codes_from_attribute(home, " Product_Area ", min_contacts=5)
    assert len(coded.codes) >= 3 and all(c.coded >= 5 and c.centroid for c in coded.codes)
    dry = import_reason_codes(home, coded.codes, dry_run=True, too_few=coded.too_few)
    # every contact of the model that carries a value is in one code or listed as too few
    assert sum(c.coded for c in coded.codes) + sum(coded.too_few.values()) == dry["contacts"]
    assert taxonomy_history(home) == [] and dry["too_few"] == []
    # codes that take nearly every contact replace the fitted themes, and the import says so
    most = dry["contacts_taken"] > 0.9 * dry["contacts"]
    assert [("replace most fitted themes" in n) for n in dry["notes"]] == ([True] if most else [])
    for row in dry["codes"]:
        assert row["coded"] >= 5 and 0 <= row["coded_taken"] <= row["coded"]
        assert row["coded_taken"] <= row["contacts"]
    # the mean of a code's own contacts takes most of them back
    assert sum(r["coded_taken"] for r in dry["codes"]) > 0.5 * sum(r["coded"] for r in dry["codes"])

    out = run_cli("taxonomy", "import", "--from-attribute", "product_area", "--by", "ann",
                  "--format", "json", home=home.home)  # fmt: skip
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert [r["contacts"] for r in body["codes"]] == [r["contacts"] for r in dry["codes"]]
    log = taxonomy_history(home)
    assert len(log) == len(coded.codes) and {e["action"] for e in log} == {"create"}
    assert log[0]["params"]["from"] == "attribute product_area"
    again = run_cli("taxonomy", "import", "--from-attribute", "product_area", home=home.home)
    assert again.returncode == 0 and "0 themes created" in again.stderr, again.stderr
    neither = run_cli("taxonomy", "import", home=home.home)
    assert neither.returncode == 1 and "one of the two" in neither.stderr
    assert "Traceback" not in neither.stderr
