"""A reviewed theme sheet applied as edits (`rca taxonomy apply`, POST /v1/taxonomy/apply).

The pure plan (a sheet that matches the taxonomy makes no edit; every bad row named, nothing
planned while one remains), then a copy of the fitted demo: the listing exported as CSV and
applied unchanged writes nothing; a reviewed copy is foretold by the dry run, applied in one
write with who and why, shows in the listing and history, and applying it again changes
nothing; a bad sheet exits 1 with one line and writes nothing; the API says the same.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import copy_home, run_cli

from rca.cluster.taxonomy import Edit, TaxonomyError, curate
from rca.cluster.theme_sheet import plan_sheet
from rca.settings import Settings


def _themes() -> pd.DataFrame:
    return pd.DataFrame({
        "theme_id": ["T0001", "T0002", "T0003", "T0004"],
        "label": ["Refund", "Refund / Money", "Card", "Hello / Thanks"],
        "keywords": [["refund"], ["money"], ["card"], ["hello"]],
        "parent_group": ["Money", "Money", None, "Other"],
        "size": [10, 5, 8, 3],
        "centroid": list(np.eye(4, dtype=np.float32)),
    })  # fmt: skip


def _sheet(**changes: dict[str, str]) -> pd.DataFrame:
    """The view as `rca taxonomy list --format csv` writes it, with ``changes`` per theme."""
    rows = [
        {"theme_id": "T0001", "label": "Refund", "contacts": "10", "parent_group": "Money",
         "flags": "", "description": ""},
        {"theme_id": "T0002", "label": "Refund / Money", "contacts": "5", "parent_group": "Money",
         "flags": "", "description": ""},
        {"theme_id": "T0003", "label": "Card", "contacts": "8", "parent_group": "",
         "flags": "", "description": ""},
        {"theme_id": "T0004", "label": "Hello / Thanks", "contacts": "3", "parent_group": "Other",
         "flags": "hidden", "description": ""},
    ]  # fmt: skip
    for row in rows:
        row.update(changes.get(row["theme_id"], {}))
    return pd.DataFrame(rows)


VIEW = curate(_themes(), [Edit("E0001", "hide", "T0004", {})])


def _actions(plan) -> list[tuple]:
    return [(e.action, e.theme_id, *sorted(e.params.items())) for e in plan.edits]


def test_the_listing_applied_as_exported_makes_no_edit() -> None:
    plan = plan_sheet(_sheet(), VIEW)
    assert plan.edits == [] and plan.unchanged == 4


def test_a_reviewed_sheet_becomes_renames_moves_hides_then_merges() -> None:
    sheet = _sheet(
        T0001={"label": "  Refund not  showing ", "merge_into": ""},
        T0002={"merge_into": "T0001"},
        T0003={"parent_group": "Cards", "merge_into": ""},
        T0004={"flags": "pinned"},  # no longer hidden
    )
    plan = plan_sheet(sheet, VIEW)
    assert _actions(plan) == [
        ("rename", "T0001", ("label", "Refund not showing")),
        ("move", "T0003", ("parent_group", "Cards")),
        ("unhide", "T0004"),
        ("merge", "T0001", ("sources", ["T0002"])),
    ]
    assert plan.lines == [2, 4, 5, 3] and plan.unchanged == 0


def test_blank_cells_leave_fields_and_a_hidden_column_wins_over_flags() -> None:
    sparse = pd.DataFrame({"Theme ID": ["T0003", "T0004", "T0001"], "Label": ["", "", "Refund"],
                           "Hidden": ["yes", "", "No"]})  # fmt: skip
    plan = plan_sheet(sparse, VIEW)
    assert _actions(plan) == [("hide", "T0003")] and plan.unchanged == 2


def test_none_takes_a_theme_out_of_its_group_and_a_blank_leaves_it() -> None:
    """A blank cell cannot mean "no group" (it means "leave it"), so "(none)" does."""
    sheet = _sheet(T0001={"parent_group": "(none)"}, T0002={"parent_group": ""},
                   T0003={"parent_group": "(No group)"})  # fmt: skip
    plan = plan_sheet(sheet, VIEW)
    assert _actions(plan) == [("move", "T0001", ("ungroup", True))]  # T0003 has none already
    done = curate(_themes(), [Edit("E0001", "hide", "T0004", {}), plan.edits[0]])
    assert plan_sheet(sheet, done).edits == []  # applied again: nothing


def test_a_sheet_applied_twice_changes_nothing_the_second_time() -> None:
    sheet = _sheet(T0002={"merge_into": "T0001"}, T0003={"label": "Card declined"})
    first = plan_sheet(sheet, VIEW)
    done = [Edit(f"E{i + 2:04d}", e.action, e.theme_id, e.params)
            for i, e in enumerate(first.edits)]  # fmt: skip
    again = plan_sheet(sheet, curate(_themes(), [Edit("E0001", "hide", "T0004", {}), *done]))
    assert again.edits == [] and again.unchanged == 4


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"T0003": {"theme_id": "T0099"}}, r"1 of 4 rows .*line 4: no theme 'T0099'"),
        ({"T0003": {"theme_id": "T0001"}}, r"line 4: T0001 is already on line 2"),
        ({"T0003": {"theme_id": ""}}, r"line 4: no theme_id"),
        ({"T0003": {"label": "x" * 121}}, r"line 4: the name is longer than 120"),
        ({"T0003": {"merge_into": "T0003"}}, r"cannot merge theme T0003 with itself"),
        ({"T0003": {"merge_into": "T0404"}}, r"line 4: no theme 'T0404'"),
        ({"T0002": {"merge_into": "T0003"}, "T0003": {"merge_into": "T0001"}},
         r"line 3: T0003 is merged away itself on line 4: merge into the theme that keeps"),
        ({"T0002": {"merge_into": "T0001", "label": "Money back"}},
         r"line 3: T0002 is merged into T0001: its own rename would be lost"),
        ({"T0001": {"theme_id": "T0099"}, "T0003": {"label": " "}, "T0004": {"theme_id": "T0003"}},
         r"2 of 4 rows cannot be applied: line 2: no theme 'T0099'.*; line 5: T0003 is "
         r"already on line 4"),
    ],
)  # fmt: skip
def test_a_bad_sheet_names_every_bad_row(changes: dict, message: str) -> None:
    sheet = _sheet(**changes)
    if "merge_into" not in sheet:
        sheet["merge_into"] = ""
    with pytest.raises(TaxonomyError, match=message):
        plan_sheet(sheet.fillna(""), VIEW)


def test_a_sheet_without_theme_ids_or_with_a_bad_hidden_value_is_refused() -> None:
    with pytest.raises(TaxonomyError, match=r"no column 'theme_id' .*taxonomy list --format csv"):
        plan_sheet(pd.DataFrame({"label": ["Refund"]}), VIEW)
    with pytest.raises(TaxonomyError, match=r"line 2: hidden 'maybe' is not yes or no"):
        plan_sheet(pd.DataFrame({"theme_id": ["T0001"], "hidden": ["maybe"]}), VIEW)
    with pytest.raises(TaxonomyError, match=r"row 1: no theme 'T0404'"):
        plan_sheet(pd.DataFrame({"theme_id": ["T0404"]}), VIEW, first_line=1, row_word="row")


@pytest.fixture()
def home(fitted_demo: Settings, tmp_path: Path) -> Settings:
    return copy_home(fitted_demo, tmp_path / "home")


def _listed(home: Path) -> pd.DataFrame:
    done = run_cli("taxonomy", "list", "--format", "csv", home=home)
    assert done.returncode == 0, done.stderr
    return pd.read_csv(io.StringIO(done.stdout), dtype=str, keep_default_na=False)


def _history(settings: Settings) -> list[dict]:
    """The log read in process: the CLI runs below are the ones under test."""
    from rca.jobs.curate import taxonomy_history

    return taxonomy_history(settings)


def _listed_now(settings: Settings) -> pd.DataFrame:
    """The listing as the dashboard's download shows it (`sheet_rows`: the columns of `rca
    taxonomy list` and an empty `merge_into`)."""
    from rca.cluster.theme_sheet import sheet_rows
    from rca.jobs.curate import taxonomy_listing

    return pd.DataFrame(sheet_rows(taxonomy_listing(settings)["themes"])).astype(str)


def test_the_cli_applies_a_reviewed_listing_in_one_step(home: Settings, tmp_path: Path) -> None:
    listed = _listed(home.home)
    path = tmp_path / "themes.csv"
    listed.to_csv(path, index=False)
    same = run_cli("taxonomy", "apply", str(path), "--format", "json", home=home.home)
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["edits"] == [] and _history(home) == []

    ids = listed.sort_values("contacts", key=lambda c: -c.astype(int))["theme_id"].tolist()
    keep, gone, hide, regroup = ids[:4]
    listed["merge_into"] = ""
    listed.loc[listed["theme_id"] == keep, "label"] = "Refund not showing on statement"
    listed.loc[listed["theme_id"] == gone, "merge_into"] = keep
    listed.loc[listed["theme_id"] == hide, "flags"] = "hidden"
    listed.loc[listed["theme_id"] == regroup, "parent_group"] = "Reviewed"
    listed.to_csv(path, index=False)

    dry = run_cli("taxonomy", "apply", str(path), "--dry-run", "--format", "json", home=home.home)
    assert dry.returncode == 0, dry.stderr
    foretold = json.loads(dry.stdout)
    planned = [(e["action"], e["theme_id"]) for e in foretold["edits"]]
    assert planned[-1] == ("merge", keep)  # merges after the rows' own changes
    assert sorted(planned) == sorted(
        [("rename", keep), ("hide", hide), ("move", regroup), ("merge", keep)]
    )
    assert _history(home) == [] and not foretold["changed"]

    done = run_cli("taxonomy", "apply", str(path), "--by", "dana", "--why", "weekly review",
                   "--format", "json", home=home.home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert [(e["action"], e["theme_id"]) for e in made["edits"]] == [
        (e["action"], e["theme_id"]) for e in foretold["edits"]
    ]
    history = _history(home)
    assert len(history) == 4 and {(e["by"], e["why"]) for e in history} == {
        ("dana", "weekly review")
    }
    after = _listed_now(home).set_index("theme_id")
    assert after.loc[keep, "label"] == "Refund not showing on statement"
    assert "pinned" in after.loc[keep, "flags"] and "hidden" in after.loc[hide, "flags"]
    assert after.loc[regroup, "parent_group"] == "Reviewed" and gone not in after.index
    both = listed.set_index("theme_id").loc[[keep, gone], "contacts"].astype(int).sum()
    assert int(after.loc[keep, "contacts"]) == int(both)

    again = run_cli("taxonomy", "apply", str(path), "--format", "json", home=home.home)
    assert again.returncode == 0 and json.loads(again.stdout)["edits"] == []
    assert len(_history(home)) == 4

    listed.loc[listed["theme_id"] == regroup, "theme_id"] = "T9999"
    listed.to_csv(path, index=False)
    bad = run_cli("taxonomy", "apply", str(path), home=home.home)
    assert bad.returncode == 1 and "no theme 'T9999'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and len(_history(home)) == 4
    missing = run_cli("taxonomy", "apply", str(tmp_path / "nope.csv"), home=home.home)
    assert missing.returncode != 0 and "no file" in missing.stderr


def test_the_api_applies_rows_for_writers_and_names_bad_rows(
    home: Settings, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from rca.api.app import create_app
    from rca.api.auth import hash_key, new_key

    reader, writer = new_key(), new_key()
    settings = copy_home(home, tmp_path / "api", api_keys=[
        f"reader:{hash_key(reader)}:pm", f"writer:{hash_key(writer)}:ann"])  # fmt: skip
    with TestClient(create_app(settings, background=False)) as client:
        themes = client.get("/v1/taxonomy", headers={"X-API-Key": reader}).json()["themes"]
        first, second = themes[0]["theme_id"], themes[1]["theme_id"]
        rows = [{"theme_id": first, "label": "Renamed by sheet"},
                {"theme_id": second, "hidden": True}]  # fmt: skip
        denied = client.post("/v1/taxonomy/apply", json={"rows": rows},
                             headers={"X-API-Key": reader})  # fmt: skip
        assert denied.status_code == 403
        bad = client.post("/v1/taxonomy/apply", headers={"X-API-Key": writer},
                          json={"rows": [*rows, {"theme_id": "T9999"}]})  # fmt: skip
        assert bad.status_code == 400 and "row 3: no theme 'T9999'" in bad.json()["detail"]
        dry = client.post("/v1/taxonomy/apply", headers={"X-API-Key": writer},
                          json={"rows": rows, "dry_run": True})  # fmt: skip
        assert dry.status_code == 200 and not dry.json()["changed"]
        assert [e["action"] for e in dry.json()["edits"]] == ["rename", "hide"]
        assert dry.json()["edits"][0]["from"] == themes[0]["label"]
        made = client.post("/v1/taxonomy/apply", headers={"X-API-Key": writer},
                           json={"rows": rows, "why": "review"})  # fmt: skip
        assert made.status_code == 200 and made.json()["changed"]
        assert {t["theme_id"]: t["label"] for t in made.json()["themes"]}[first] == (
            "Renamed by sheet"
        )
        listing = client.get("/v1/taxonomy", headers={"X-API-Key": reader}).json()
        assert second in listing["hidden"]
        assert {e["by"] for e in client.get("/v1/taxonomy/history",
                headers={"X-API-Key": reader}).json()["edits"]} == {"ann"}  # fmt: skip


def test_the_apostrophe_of_a_spreadsheet_safe_download_is_not_a_rename() -> None:
    """The dashboard's download writes a formula-like name as "'=Refund" so a spreadsheet shows
    it as text; read back, it is the same name."""
    view = curate(_themes(), [Edit("E0001", "rename", "T0001", {"label": "=Refund"})])
    same = plan_sheet(pd.DataFrame({"theme_id": ["T0001"], "label": ["'=Refund"]}), view)
    assert same.edits == []
    quoted = plan_sheet(pd.DataFrame({"theme_id": ["T0002"], "label": ["'Quoted'"]}), view)
    assert _actions(quoted) == [("rename", "T0002", ("label", "'Quoted'"))]


def test_a_sheet_saved_or_pasted_from_a_spreadsheet_reads_as_the_listing(tmp_path: Path) -> None:
    """Excel's "CSV" in a Western locale is Windows-1252 with `;` where the decimal mark is a
    comma, and cells copied out of a spreadsheet paste as tab-separated text."""
    from rca.jobs.apply_sheet import parse_sheet, read_sheet_file

    path = tmp_path / "themes.csv"
    path.write_bytes("theme_id;label;parent_group\r\nT0001;Remboursement, pas reçu;Money\r\n"
                     .encode("cp1252"))  # fmt: skip
    frame = read_sheet_file(path)
    assert frame.to_dict(orient="records") == [
        {"theme_id": "T0001", "label": "Remboursement, pas reçu", "parent_group": "Money"}
    ]
    pasted = parse_sheet("theme_id\tlabel\tflags\nT0003\tCard, declined\thidden\n")
    plan = plan_sheet(pasted, VIEW)
    assert _actions(plan) == [("rename", "T0003", ("label", "Card, declined")), ("hide", "T0003")]


def test_a_sheet_saved_as_an_excel_workbook_reads_as_its_csv(tmp_path: Path) -> None:
    """Excel's own "Save" is a workbook: its first sheet is the table, numbers that are whole
    stay whole, empty cells are blank, and a workbook renamed .csv is still one. The formats
    it cannot take say how to save instead."""
    from rca.errors import InvalidInputError
    from rca.jobs.apply_sheet import read_sheet_file
    from rca.jobs.import_codes import read_table, table_text

    sheet = pd.DataFrame({"theme_id": ["T0001", "T0003"], "label": ["Card, declined", ""],
                          "contacts": [1200, 35], "flags": ["", "hidden"]})  # fmt: skip
    path = tmp_path / "themes.xlsx"
    with pd.ExcelWriter(path) as book:
        sheet.to_excel(book, sheet_name="themes", index=False)
        pd.DataFrame({"note": ["a second sheet is not read"]}).to_excel(book, sheet_name="notes")
    frame = read_sheet_file(path)
    assert frame.to_dict(orient="records") == [
        {"theme_id": "T0001", "label": "Card, declined", "contacts": "1200", "flags": ""},
        {"theme_id": "T0003", "label": "", "contacts": "35", "flags": "hidden"},
    ]
    assert _actions(plan_sheet(frame, VIEW)) == [
        ("rename", "T0001", ("label", "Card, declined")),
        ("hide", "T0003"),
    ]
    renamed = tmp_path / "themes.csv"
    renamed.write_bytes(path.read_bytes())
    assert read_sheet_file(renamed).equals(frame)
    text = table_text(path.read_bytes(), "themes.xlsx")  # what the page's box shows
    assert text.splitlines()[1] == 'T0001,"Card, declined",1200,'
    assert read_table(text, unreadable="x", empty=None).equals(frame)

    legacy = tmp_path / "themes.xls"  # the Excel 97-2003 container, its insides broken
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    with pytest.raises(InvalidInputError, match=r"themes.xls is not a readable spreadsheet"):
        read_sheet_file(legacy)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InvalidInputError, match="broken.xlsx is not a readable spreadsheet"):
        read_sheet_file(broken)
