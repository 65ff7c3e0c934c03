"""SOP change effects on hand-made series: the change found, a null change not, too early said."""

from __future__ import annotations

import numpy as np
import pytest

from rca.sop.effect import did_effect


def series(effect: float, weeks_after: int = 8, seed: int = 0, surge: bool = False):
    rng = np.random.default_rng(seed)
    weeks = 12 + weeks_after
    common = rng.normal(0, 0.1, weeks)
    if surge:
        common[12:15] += np.log(1.5)  # every theme's rate up 50 % right after the change
    p_theme = 0.3 * np.exp(common) * np.where(np.arange(weeks) >= 12, 1 + effect, 1.0)
    p_ctrl = 0.15 * np.exp(common)
    n_theme, n_ctrl = np.full(weeks, 400), np.full(weeks, 4000)
    return rng.binomial(n_theme, p_theme), n_theme, rng.binomial(n_ctrl, p_ctrl), n_ctrl


def test_a_halving_is_found_with_an_interval_around_it() -> None:
    effect = did_effect(*series(-0.5), 12)
    assert effect.verdict == "improved"
    assert effect.low < -0.5 * effect.before < effect.high  # halved: about -15 points
    assert "points against the other themes" in effect.sentence


def test_a_null_change_during_a_surge_is_not_an_effect() -> None:
    effect = did_effect(*series(0.0, surge=True, seed=3), 12)
    assert effect.verdict == "no_effect" and effect.low < 0 < effect.high


def test_too_early_says_how_much_data_there_is() -> None:
    te, tt, oe, ot = series(-0.5, weeks_after=1)
    effect = did_effect(te, tt, oe, ot, 12)
    assert effect.verdict == "too_early" and effect.change is None
    assert "1 period after the change, 400 contacts so far" in effect.sentence


def test_a_change_dated_after_the_data_or_with_no_contacts_after_is_too_early() -> None:
    te, tt, oe, ot = series(0.0, weeks_after=0)
    assert did_effect(te, tt, oe, ot, 30).verdict == "too_early"  # dated in the future
    tt2 = tt.copy()
    te2 = te.copy()
    tt2[10:], te2[10:] = 0, 0  # the theme went quiet after its change
    quiet = did_effect(te2, tt2, oe, ot, 10)
    assert quiet.verdict == "too_early" and quiet.contacts_after == 0


@pytest.mark.slow
def test_rca_sop_records_lists_shows_and_retires(tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from rca.cli import (
        app,
        commands,  # noqa: F401
    )
    from rca.ingest.pipeline import ingest_paths
    from rca.jobs.fit import fit_themes
    from rca.settings import Settings
    from tests.conftest import make_contacts

    path = tmp_path / "export.csv"
    make_contacts(400, seed=6).to_csv(path, index=False)
    settings = Settings(home=tmp_path / "home", timezone="Europe/London")
    ingest_paths([str(path)], settings)
    fit_themes(settings, promote="always")
    home = ["--home", str(settings.home)]
    runner = CliRunner()
    themes = json.loads(runner.invoke(app, ["themes", "--format", "json", *home]).stdout)
    theme = themes["themes"][0]["theme_id"]
    added = runner.invoke(app, ["sop", "add", "--theme", theme, "--effective", "2026-10-12",
                                "--title", "Refund macro rewritten", "--author", "sop-team",
                                "--market", "UK", "--format", "json", *home])  # fmt: skip
    assert added.exit_code == 0, added.output
    change_id = json.loads(added.stdout)["change_id"]
    listed = json.loads(runner.invoke(app, ["sop", "list", "--format", "json", *home]).stdout)
    assert [c["change_id"] for c in listed["changes"]] == [change_id]
    shown = json.loads(runner.invoke(app, ["sop", "show", change_id, "--format", "json",
                                           *home]).stdout)  # fmt: skip
    assert set(shown["effects"]) == {"repeat rate", "escalation rate"}
    for effect in shown["effects"].values():
        assert effect["verdict"] in {"too_early", "no_effect", "improved", "worsened"}
        assert effect["sentence"]
    assert [a["action"] for a in shown["audit"]] == ["added"]
    # a change dated after the data: too early, never an error
    future = runner.invoke(app, ["sop", "add", "--theme", theme, "--effective", "2027-06-01",
                                 "--title", "Later", "--format", "json", *home])  # fmt: skip
    later = json.loads(future.stdout)["change_id"]
    effects = json.loads(runner.invoke(app, ["sop", "show", later, "--format", "json",
                                             *home]).stdout)["effects"]  # fmt: skip
    assert {e["verdict"] for e in effects.values()} == {"too_early"}
    assert runner.invoke(app, ["sop", "retire", change_id, *home]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["sop", "list", "--format", "json", *home]).stdout)
    assert [c["change_id"] for c in listed["changes"]] == [later]
    unknown = runner.invoke(app, ["sop", "add", "--theme", "T9999", "--effective", "2026-10-12",
                                  "--title", "x", *home])  # fmt: skip
    assert unknown.exit_code != 0


def test_a_change_recorded_before_changes_named_several_themes_reads_as_one(tmp_path) -> None:
    """A store at schema 6 holds a one-theme row; migrating it reads the row with
    `theme_ids == (theme_id,)`, and a new change keeps all of its ids (found by any)."""
    from datetime import UTC, datetime

    import duckdb

    from rca.store.db import migrate
    from rca.store.schema import MIGRATIONS
    from rca.store.sop import add_change, list_changes

    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)")
    for number, statements in enumerate(MIGRATIONS[:6], 1):
        for statement in statements:
            con.execute(statement)
        con.execute("INSERT INTO schema_version VALUES (?, now())", [number])
    at = datetime(2026, 10, 5, tzinfo=UTC)
    con.execute("INSERT INTO sop_changes VALUES ('SOP-old', 'T0003', ?, 'Old macro', NULL, NULL, "
                "NULL, '{}', 'active', ?)", [at, at])  # fmt: skip
    assert migrate(con) == len(MIGRATIONS)
    (old,) = list_changes(con)
    assert old.theme_ids == ("T0003",) and old.as_dict()["theme_ids"] == ["T0003"]
    new = add_change(con, theme_ids=["T0007", "T0002,T0007"], effective_at=at, title="Both",
                     now=at)  # fmt: skip
    assert new.theme_id == "T0007" and new.theme_ids == ("T0007", "T0002")
    assert [c.change_id for c in list_changes(con, theme_id="T0002")] == [new.change_id]
    ids = {c.change_id: c.theme_ids for c in list_changes(con)}
    assert ids == {"SOP-old": ("T0003",), new.change_id: ("T0007", "T0002")}
