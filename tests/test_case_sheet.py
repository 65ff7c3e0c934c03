"""Issue 19: cases filed by a table. A theme's cases CSV with `theme_id` corrected where a case
belongs elsewhere becomes one `reassign` per theme, all or none: the rules on hand-made themes,
then the real `rca examples` download and `rca taxonomy reassign --file` on the fitted demo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import copy_home, run_cli

from rca.cluster.case_sheet import listed_contacts, plan_cases
from rca.cluster.taxonomy import Edit, TaxonomyError, curate
from rca.settings import Settings


def _view():
    themes = pd.DataFrame({
        "theme_id": ["T0001", "T0002", "T0003"],
        "label": ["Refund", "Card", "Delivery"],
        "keywords": [["refund"], ["card"], ["late"]],
        "parent_group": [None, None, None],
        "size": [3, 2, 1],
        "centroid": list(np.eye(3, dtype=np.float32)),
    })  # fmt: skip
    return curate(themes, [Edit("E0001", "merge", "T0001", {"sources": ["T0003"]})])


HELD = {"c1": "T0001", "c2": "T0001", "c3": "T0002", "c4": ""}


def _table(themes: list[str], contacts: tuple[str, ...] = ("c1", "c2", "c3", "c4")):
    return pd.DataFrame({"Contact ID": list(contacts), "theme_id": themes, "text": "x"})


def test_only_cases_moved_to_another_theme_are_filed_one_edit_a_theme() -> None:
    view = _view()
    same = plan_cases(_table(["T0001", "T0001", "T0002", "T0002"])[:3], view, HELD)
    assert same.edits == [] and same.unchanged == 3  # the download as it is: nothing
    plan = plan_cases(_table(["T0002", "T0001", "T0001", "T0001"]), view, HELD)
    assert [(e.action, e.theme_id, e.params) for e in plan.edits] == [
        ("reassign", "T0002", {"contacts": ["c1"]}),
        ("reassign", "T0001", {"contacts": ["c3", "c4"]}),  # an unassigned contact too
    ]
    assert plan.lines == [[2], [4, 5]] and plan.unchanged == 1
    twice = plan_cases(_table(["T0002", "T0002"], ("c1", "c1")), view, HELD)
    assert [e.params["contacts"] for e in twice.edits] == [["c1"]] and twice.unchanged == 1
    assert listed_contacts(_table(["T0001"] * 4)) == ["c1", "c2", "c3", "c4"]


def test_a_contact_id_the_download_made_spreadsheet_safe_is_read_back_as_it_was() -> None:
    """The cases download puts an apostrophe before a formula-like cell, so a contact id that is
    a phone number ("+44...") or a handle ("@...") comes back as "'+44...": still that contact."""
    held = {**HELD, "+447700900123": "T0001", "@maria_k": "T0001"}
    table = _table(["T0002", "T0001"], ("'+447700900123", "'@maria_k"))
    assert listed_contacts(table) == ["+447700900123", "@maria_k"]
    plan = plan_cases(table, _view(), held)
    assert [(e.theme_id, e.params) for e in plan.edits] == [
        ("T0002", {"contacts": ["+447700900123"]})
    ]
    assert plan.unchanged == 1


def test_every_row_that_cannot_be_filed_is_named() -> None:
    table = _table(["T0009", "T0003", "", "T0002"], ("c1", "c2", "c3", "c-new"))
    table.loc[4] = ["", "T0001", "x"]
    table.loc[5] = ["c1", "T0001", "x"]  # c1 twice, with two themes
    with pytest.raises(TaxonomyError) as caught:
        plan_cases(table, _view(), HELD)
    message = str(caught.value)
    assert message.startswith("6 of 6 rows cannot be filed")
    for said in ("line 2: no theme 'T0009'", "line 3: theme T0003 was merged into T0001",
                 "line 4: no theme_id for c3", "line 5: no contact c-new",
                 "line 6: no contact_id", "line 7: c1 is filed under T0009 on line 2"):  # fmt: skip
        assert said in message, message
    with pytest.raises(TaxonomyError, match="no column 'theme_id'"):
        plan_cases(pd.DataFrame({"contact_id": ["c1"]}), _view(), HELD)


def test_a_theme_page_download_corrected_and_filed_from_the_cli(
    fitted_demo: Settings, tmp_path: Path
) -> None:
    from rca.jobs.curate import taxonomy_history, taxonomy_listing

    settings = copy_home(fitted_demo, tmp_path / "home")
    themes = sorted(taxonomy_listing(settings)["themes"], key=lambda t: -t["contacts"])
    source, target = themes[0]["theme_id"], themes[1]["theme_id"]
    listed = run_cli("examples", source, "--n", "6", "--format", "csv", "--bom",
                     home=settings.home)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    path = tmp_path / "cases.csv"
    path.write_text(listed.stdout, encoding="utf-8")
    cases = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    assert len(cases) == 6 and set(cases["theme_id"]) == {source}
    from rca.jobs.apply_sheet import read_sheet_file
    from rca.jobs.file_cases import file_cases

    assert file_cases(settings, read_sheet_file(path))["edits"] == []  # as downloaded
    cases.loc[:1, "theme_id"] = target
    cases.to_csv(path, index=False)
    dry = run_cli("taxonomy", "reassign", "--file", str(path), "--dry-run", home=settings.home)
    assert dry.returncode == 0, dry.stderr  # counted as a person would say it
    assert "2 contacts would move in 1 edit from 6 rows (4 unchanged)" in dry.stderr
    assert taxonomy_history(settings) == []
    workbook = tmp_path / "cases.xlsx"  # the table as Excel saves it
    cases.to_excel(workbook, index=False)
    done = run_cli("taxonomy", "reassign", "--file", str(workbook), "--by", "sam", "--format",
                   "json", home=settings.home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["moved"] == 2 and result["edits"][0]["moved_from"] == {source: 2}
    counts = {t["theme_id"]: t["contacts"] for t in taxonomy_listing(settings)["themes"]}
    assert counts[source] == themes[0]["contacts"] - 2
    assert counts[target] == themes[1]["contacts"] + 2
    assert [(e["action"], e["by"]) for e in taxonomy_history(settings)] == [("reassign", "sam")]
    assert file_cases(settings, read_sheet_file(path))["edits"] == []  # applied again
    cases.loc[2, "theme_id"] = "T9999"
    cases.to_csv(path, index=False)
    bad = run_cli("taxonomy", "reassign", "--file", str(path), home=settings.home)
    assert bad.returncode == 1 and "line 4: no theme 'T9999'" in bad.stderr
    assert "Traceback" not in bad.stderr and len(taxonomy_history(settings)) == 1
    cases.loc[2, "theme_id"] = target  # and with --teach: contacts like it follow
    cases.to_csv(path, index=False)
    taught = run_cli("taxonomy", "reassign", "--file", str(path), "--teach", "--format", "json",
                     home=settings.home)  # fmt: skip
    assert taught.returncode == 0, taught.stderr
    (edit,) = json.loads(taught.stdout)["edits"]
    assert len(edit["contacts"]) == 1 and edit["learnt"] >= 0
    gained = {t["theme_id"]: t["contacts"] for t in taxonomy_listing(settings)["themes"]}[target]
    assert gained == counts[target] + 1 + edit["learnt"]
    assert taxonomy_history(settings)[-1]["params"]["teach"] is True


def test_the_api_files_cases_for_writers_and_names_bad_rows(
    fitted_demo: Settings, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from rca.api.app import create_app
    from rca.api.auth import hash_key, new_key
    from rca.store import Store

    reader, writer = new_key(), new_key()
    settings = copy_home(fitted_demo, tmp_path / "api", api_keys=[
        f"reader:{hash_key(reader)}:pm", f"writer:{hash_key(writer)}:ann"])  # fmt: skip
    with Store(settings.store_path).read() as con:
        (a, ta), (b, tb) = con.execute(
            "SELECT contact_id, theme_id FROM assignments WHERE theme_id <> '' "
            "ORDER BY contact_id LIMIT 2").fetchall()  # fmt: skip
    with TestClient(create_app(settings, background=False)) as client:
        themes = [t["theme_id"] for t in client.get(
            "/v1/taxonomy", headers={"X-API-Key": reader}).json()["themes"]]  # fmt: skip
        other = next(t for t in themes if t not in (ta, tb))
        rows = [{"contact_id": a, "theme_id": other}, {"contact_id": b, "theme_id": tb}]
        url = "/v1/taxonomy/reassign-cases"
        assert client.post(url, json={"rows": rows}, headers={"X-API-Key": reader}
                           ).status_code == 403  # fmt: skip
        bad = client.post(
            url,
            headers={"X-API-Key": writer},
            json={"rows": [*rows, {"contact_id": "C-nope", "theme_id": other}]},
        )
        assert bad.status_code == 400 and "row 3: no contact C-nope" in bad.json()["detail"]
        dry = client.post(url, headers={"X-API-Key": writer}, json={"rows": rows, "dry_run": True})
        assert dry.status_code == 200 and not dry.json()["changed"]
        assert dry.json()["moved"] == 1 and dry.json()["unchanged"] == 1
        made = client.post(url, headers={"X-API-Key": writer}, json={"rows": rows})
        assert made.status_code == 200 and made.json()["changed"]
        assert made.json()["edits"] == [{
            "edit_id": made.json()["edits"][0]["edit_id"], "theme_id": other,
            "label": made.json()["edits"][0]["label"], "contacts": [a], "lines": [1],
            "moved_from": {ta: 1}, "learnt": None}]  # fmt: skip
        again = client.post(url, headers={"X-API-Key": writer}, json={"rows": rows})
        assert again.json()["changed"] is False and again.json()["unchanged"] == 2
        taught = client.post(url, headers={"X-API-Key": writer}, json={
            "rows": [{"contact_id": b, "theme_id": other}], "teach": True})  # fmt: skip
        assert taught.status_code == 200 and taught.json()["edits"][0]["learnt"] >= 0
