"""The real `rca` command: exit codes, help, and the documented JSON output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import make_contacts, run_cli

COMMANDS = ["ingest", "status", "demo"]


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
def test_help_everywhere(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout


def test_usage_error_exits_2() -> None:
    result = run_cli("ingest", "--no-such-option")
    assert result.returncode == 2
    assert "No such option" in result.stderr


@pytest.mark.parametrize("command", ["themes", "spikes", "drivers"])
def test_unknown_granularity_is_a_usage_error(command: str, tmp_path: Path) -> None:
    """Checked before any store is read: a typo is a usage error, not "no store"."""
    result = run_cli(command, "--granularity", "coarse", home=tmp_path / "h")
    assert result.returncode == 2
    assert "--granularity must be fine or parent" in result.stderr
    assert "Traceback" not in result.stderr


def test_handled_error_is_one_line_exit_1(tmp_path: Path) -> None:
    result = run_cli("ingest", str(tmp_path / "missing.csv"), home=tmp_path / "h")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'missing.csv'}: no such file"
    ]
    assert "Traceback" not in result.stderr
    debug = run_cli("--debug", "ingest", str(tmp_path / "missing.csv"), home=tmp_path / "h")
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_status_of_a_date_only_export_says_its_days(tmp_path: Path) -> None:
    """A date-only export read in London: its last day, 2 November, is stored as the 1st at
    23:00 UTC in summer time; the table says the day the export says."""
    path = tmp_path / "dates.csv"
    frame = make_contacts(12)
    frame["created_at"] = [f"2026-10-{20 + i}" for i in range(12)]
    frame.to_csv(path, index=False)
    home = tmp_path / "h"
    env = {"RCA_TIMEZONE": "Europe/London"}
    assert run_cli("ingest", str(path), home=home, env=env).returncode == 0
    status = json.loads(run_cli("status", "--format", "json", home=home, env=env).stdout)
    assert status["dates_only"] is True
    assert status["first_contact_at"].startswith("2026-10-19T23:00:00")  # UTC in JSON
    table = run_cli("status", home=home, env=env).stdout
    assert "2026-10-20 (dates only)" in table and "2026-10-31 (dates only)" in table


def test_status_without_store_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("status", home=tmp_path / "empty")
    assert result.returncode == 1
    assert "no store" in result.stderr


def test_ingest_and_status_json(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    frame = make_contacts(30)
    frame.loc[0, "text"] = ""
    frame.to_csv(path, index=False)
    home = tmp_path / "h"
    result = run_cli("ingest", str(path), "--format", "json", home=home)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["command"] == "ingest"
    assert payload["totals"] == {
        "read": 30,
        "inserted": 29,
        "updated": 0,
        "unchanged": 0,
        "quarantined": 1,
        "truncated": 0,
    }
    assert payload["files"][0]["file"] == str(path.resolve())

    status = json.loads(run_cli("status", "--format", "json", home=home).stdout)
    assert status["command"] == "status"
    assert (status["contacts"], status["quarantined"]) == (29, 1)
    assert status["dimensions"] == ["app_version", "market"]
    assert status["first_contact_at"] < status["last_contact_at"]
    assert status["dates_only"] is False
    table = run_cli("status", home=home).stdout  # the configured zone, to the minute
    assert re.search(r"last_contact_at\s+│ 2026-\d\d-\d\d \d\d:\d\d (GMT|BST)", table), table

    rejected = json.loads(
        run_cli("ingest", "--show-rejected", "--format", "json", home=home).stdout
    )
    assert [r["reason"] for r in rejected["rows"]] == ["empty text"]

    csv_out = run_cli("ingest", "--show-rejected", "--format", "csv", home=home).stdout
    assert csv_out.splitlines()[0] == "file,line,reason,raw,quarantined_at"


def test_ingest_says_why_rows_were_quarantined(tmp_path: Path) -> None:
    """The table output names each kind of reason with its first row (and the fix a reason
    carries), so a file whose every row failed for one reason needs no second command."""
    path = tmp_path / "c.csv"
    frame = make_contacts(6)
    frame.loc[0, "text"] = ""
    frame.loc[[2, 4], "created_at"] = ["45055.5", "not a date"]
    frame.to_csv(path, index=False)
    result = run_cli("ingest", str(path), home=tmp_path / "h")
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stderr.splitlines() if "quarantined " in line]
    assert lines[0] == (
        f"quarantined 2 rows, unparseable created_at; first at line 4 of {path.resolve()}: "
        '45055.5 (an Excel serial date? it reads 2023-05-09 12:00: set format = "excel" on '
        "created_at)"
    )
    assert lines[1] == f"quarantined 1 row, empty text; first at line 2 of {path.resolve()}"
    assert "every row: rca ingest --show-rejected" in result.stderr


def test_home_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    make_contacts(3).to_csv(path, index=False)
    result = run_cli("ingest", str(path), env={"RCA_HOME": str(tmp_path / "envhome")})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "envhome" / "rca.duckdb").exists()
