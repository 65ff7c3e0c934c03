"""`rca fit` / `assign` / `themes` / `promote` end to end on a small demo stream.

Real parts throughout: the bundled MiniLM encoder, UMAP + HDBSCAN, a DuckDB store and an MLflow
SQLite store with its model registry. One module-scoped store keeps the suite fast.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli

from rca.demo import DemoConfig, write_demo
from rca.ingest.pipeline import ingest_paths
from rca.jobs.assign import assign_contacts
from rca.jobs.fit import fit_themes
from rca.jobs.tracking import champion_version, load_catalog
from rca.settings import Settings
from rca.store import Store
from rca.store.status import store_status

pytestmark = pytest.mark.slow
DEMO_CONTACTS = 2_500


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, object]:
    root = tmp_path_factory.mktemp("fit")
    settings = Settings(home=root / "home")
    contacts, _truth, _manifest = write_demo(
        root / "demo", settings.datasets_dir, DemoConfig(n_contacts=DEMO_CONTACTS, seed=1)
    )
    frame = pd.read_csv(contacts, dtype=str, keep_default_na=False)
    cut = pd.to_datetime(frame["created_at"], utc=True).max() - timedelta(days=7)
    older = frame[pd.to_datetime(frame["created_at"], utc=True) < cut]
    newer = frame[pd.to_datetime(frame["created_at"], utc=True) >= cut]
    older.to_csv(root / "older.csv", index=False)
    newer.to_csv(root / "newer.csv", index=False)
    ingest_paths([str(root / "older.csv")], settings)
    result = fit_themes(settings, promote="auto")
    return settings, root, result


def test_fit_finds_labelled_themes_and_registers_a_champion(fitted) -> None:
    settings, _root, result = fitted
    catalog = result.catalog
    assert 5 <= catalog.n_themes <= 120
    assert result.metrics["unassigned_fraction"] <= 0.10
    assert all(label for label in catalog.labels)
    assert all(not any(k.startswith("[") for k in kws) for kws in catalog.keywords)
    assert result.promoted and result.registry_version == "1"
    assert champion_version(settings) == "1"
    assert load_catalog(settings).theme_ids == catalog.theme_ids
    assert all(len(ids) >= 1 for ids in result.representatives.values())
    with Store(settings.store_path).read() as con:
        n_assigned = con.execute("SELECT count(*) FROM assignments").fetchall()[0][0]
        events = con.execute("SELECT DISTINCT event FROM theme_events").fetchall()
    assert n_assigned == int(result.metrics["n_contacts"])
    assert events == [("new",)]
    # short support texts: none past the encoder's window, and status says so
    assert result.metrics["long_texts"] == 0
    with Store(settings.store_path).read() as con:
        assert store_status(con)["long_texts"] == 0


def test_new_contacts_are_assigned_without_refit(fitted) -> None:
    settings, root, result = fitted
    ingest_paths([str(root / "newer.csv")], settings)
    outcome = assign_contacts(settings)
    assert outcome.model_version == result.catalog.model_version
    assert outcome.contacts > 100
    assert outcome.unassigned / outcome.contacts < 0.2
    again = assign_contacts(settings)
    assert again.contacts == 0  # nothing new: idempotent


def test_refit_with_another_seed_keeps_theme_ids(fitted) -> None:
    settings, _root, first = fitted
    second = fit_themes(settings, seed=7, promote="never")
    assert not second.promoted
    assert second.checks["id_stability_value"] >= 0.80
    kept = set(second.catalog.theme_ids) & set(first.catalog.theme_ids)
    assert len(kept) >= 0.7 * min(first.catalog.n_themes, second.catalog.n_themes)
    assert set(second.events["event"]) <= {"kept", "merged", "split", "new", "retired"}
    assert champion_version(settings) == "1"


def test_cli_themes_and_promote(fitted) -> None:
    settings, _root, _result = fitted
    out = run_cli("themes", "--period", "latest", "--format", "json", home=settings.home)
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["command"] == "themes" and payload["themes"]
    top = payload["themes"][0]
    assert {"theme_id", "label", "volume", "share", "growth", "keywords"} <= set(top)
    assert run_cli("promote", "2", home=settings.home).returncode == 0
    assert champion_version(settings) == "2"
    bad = run_cli("promote", "42", home=settings.home)
    assert bad.returncode == 1 and "no fitted model" in bad.stderr
    malformed = run_cli("themes", "--period", "2026-W99", home=settings.home)
    assert malformed.returncode == 1 and "no such ISO week" in malformed.stderr


def test_refits_keep_the_granularity_the_data_chose(fitted) -> None:
    """Under RCA_FIT_THEME_SIZE=plscan (the default) a fit chooses, stores the choice, and a
    refit with another seed keeps it (it says so) until a person asks for a new choice; a
    champion fitted under another rule is never inherited from."""
    pytest.importorskip("fast_hdbscan")
    settings, _root, first = fitted
    assert first.granularity is not None and first.granularity.rule == "plscan"
    assert first.granularity.chosen_on == first.catalog.model_version
    sized = settings.model_copy(update={"fit_theme_size": "size"})
    by_size = fit_themes(sized, promote="always")
    assert by_size.granularity is not None and by_size.granularity.rule == "size"
    assert not by_size.granularity.kept
    plscan = settings.model_copy(update={"fit_theme_size": "plscan"})
    chosen = fit_themes(plscan, promote="always")  # the champion's rule was n/150: a choice
    assert chosen.granularity is not None and not chosen.granularity.kept
    assert chosen.granularity.chosen_on == chosen.catalog.model_version
    said: list[str] = []
    kept = fit_themes(plscan, seed=7, promote="always", say=said.append)
    assert kept.granularity is not None and kept.granularity.kept
    assert kept.granularity.chosen_on == chosen.catalog.model_version
    assert any("kept the granularity plscan chose on" in line for line in said)
    assert kept.checks["id_stability_value"] >= 0.80
    again = fit_themes(plscan, seed=7, promote="never", rechoose_granularity=True)
    assert again.granularity is not None and not again.granularity.kept
    with Store(settings.store_path).read() as con:
        stored = con.execute(
            "SELECT granularity FROM models WHERE model_version = ?",
            [kept.catalog.model_version],
        ).fetchone()[0]
    assert json.loads(stored)["chosen_on"] == chosen.catalog.model_version
    # rca status says how each fit chose its number of themes, and counts what the catalog serves
    status = json.loads(run_cli("status", "--format", "json", home=settings.home).stdout)
    models = {m["model_version"]: m for m in status["models"]}
    for fit in (chosen, kept, again):
        assert models[fit.catalog.model_version]["n_themes"] == fit.catalog.n_themes
    assert models[kept.catalog.model_version]["granularity"]["kept"] is True
    assert models[kept.catalog.model_version]["granularity"]["chosen_on"] == (
        chosen.catalog.model_version
    )
    table = run_cli("status", home=settings.home, env={"COLUMNS": "250"}).stdout
    assert f"kept what plscan chose on {chosen.catalog.model_version}" in table
    out = run_cli("fit", "--help", home=settings.home)
    assert "--rechoose-granularity" in out.stdout


def test_a_refit_holds_the_themes_it_carves_out_of_old_ones(fitted) -> None:
    """A finer refit of the same contacts carves new themes out of the champion's. By default
    they are proposals (in `rca taxonomy list`), their contacts keep their theme ids, and no
    lineage row names a theme that does not exist; --apply-new-themes applies them."""
    settings, _root, _first = fitted
    champion = fit_themes(settings, promote="always")
    said: list[str] = []
    held = fit_themes(settings, seed=7, granularity=2.0, promote="always", say=said.append)
    n_held = int(held.metrics["themes_held"])
    assert n_held >= 1 and held.metrics["contacts_in_held_themes"] >= 10 * n_held
    noun = "theme" if n_held == 1 else "themes"
    assert any(line.startswith(f"held {n_held} {noun} the refit carved") for line in said)
    proposals = [p for p in held.proposals if p.kind == "new_theme"]
    assert len(proposals) == n_held
    assert all(p.theme_id in champion.catalog.theme_ids for p in proposals)
    assert all("read as a theme of their own" in p.message for p in proposals)
    named = set(held.events.loc[held.events["event"].isin(["new", "split"]), "theme_id"])
    assert named <= set(held.catalog.theme_ids)
    for p in proposals:  # a held theme is never called by its own theme's name
        parent_name, own_name = re.findall(r"'([^']*)'", p.message)[:2]
        assert parent_name.lower() != own_name.lower(), p.message
    listing = json.loads(run_cli("taxonomy", "list", "--format", "json", home=settings.home).stdout)
    assert sum(p["kind"] == "new_theme" for p in listing["proposals"]) == n_held
    for p in listing["proposals"]:  # a client reads the held theme's name without the message
        assert (p["kind"] == "new_theme") == bool(p["label"] and p["keywords"]), p
        assert not p["label"] or f"'{p['label']}'" in p["message"]
    # the weekly e-mail tells the program manager a decision waits
    from rca.report.gather import gather_report

    mail = gather_report(settings, "latest", now=datetime.now(UTC)).model
    assert mail.taxonomy_open == len(held.proposals) >= n_held
    from rca.report.content import mail_wording

    assert set(mail.taxonomy_lines) <= {mail_wording(p.message) for p in held.proposals}
    assert not any("`" in line for line in mail.taxonomy_lines)  # the page answers, not the CLI

    # a person pins one parent's name and splits another: the same refit again names the
    # first as they do and proposes nothing for the theme they already split
    from rca.jobs.curate import accept_split, apply_edit, preview_split

    parents = list(dict.fromkeys(p.theme_id for p in proposals))
    assert len(parents) >= 2
    # the refit's own cut, previewed as a split: one part per held theme, one for the rest; its
    # held part is mostly the held contacts (accept routes by the parts' centroids)
    from rca.cluster.taxonomy import TaxonomyError
    from rca.store.curation import proposed_parts
    from rca.store.themes import require_champion

    with Store(settings.store_path).read() as con:
        version = require_champion(con)
        carved = proposed_parts(con, version, parents[1])
        in_theme = {
            r[0]
            for r in con.execute(
                "SELECT contact_id FROM assignments WHERE model_version = ? AND theme_id = ?",
                [version, parents[1]],
            ).fetchall()
        }
    for proposal in carved:  # the message counts what the preview of the cut can show
        inside = len(set(proposal["members"]) & in_theme)
        said_in = re.search(r"(\d+) of them in (T\d+)", proposal["message"])
        if said_in:
            assert (int(said_in[1]), said_in[2]) == (inside, parents[1]), proposal["message"]
        else:
            assert proposal["message"].startswith(f"{inside} contacts of {parents[1]} ")
    cut = preview_split(settings, parents[1], proposed=True)
    assert len(cut["children"]) == len(carved) + 1 == 1 + sum(p.theme_id == parents[1]
                                                              for p in proposals)  # fmt: skip
    for child, proposal in zip(cut["children"], carved, strict=False):
        members = proposal["members"]
        assert set(child["examples"]) <= set(members), (child, proposal["message"])
        assert 0.5 * len(members) <= child["size"] <= 1.5 * len(members)
        # the part is shown under the name the proposal (and the e-mail) gave it
        assert proposal["label"] and child["label"] == proposal["label"]
        assert f"'{proposal['label']}'" in proposal["message"]
        assert child["keywords"] == proposal["keywords"]
    assert cut["children"][-1]["label"] not in {p["label"] for p in carved}
    others = set(held.catalog.theme_ids) - set(parents)
    with pytest.raises(TaxonomyError, match="no open proposal carves"):
        preview_split(settings, sorted(others)[0], proposed=True)
    preview = preview_split(settings, parents[1])["preview_id"]
    listing = json.loads(run_cli("taxonomy", "list", "--format", "json", home=settings.home).stdout)
    assert len(listing["proposals"]) == len(held.proposals)  # a preview alone answers nothing
    apply_edit(settings, "rename", parents[0], params={"label": "Pinned by dana"})
    accept_split(settings, preview)
    # the split answers the proposals about its theme; a new name for a theme answers none
    listing = json.loads(run_cli("taxonomy", "list", "--format", "json", home=settings.home).stdout)
    answered = [p for p in held.proposals if parents[1] in (p.theme_id, *p.related_ids)]
    assert len(listing["proposals"]) == len(held.proposals) - len(answered)
    assert parents[0] in {p["theme_id"] for p in listing["proposals"]}
    mail = gather_report(settings, "latest", now=datetime.now(UTC)).model
    assert mail.taxonomy_open == len(listing["proposals"])
    again = fit_themes(settings, seed=7, granularity=2.0, promote="never")
    again_held = [p for p in again.proposals if p.kind == "new_theme"]
    assert again_held and not [p for p in again_held if p.theme_id == parents[1]]
    pinned = [p for p in again_held if p.theme_id == parents[0]]
    assert pinned and all("'Pinned by dana'" in p.message for p in pinned)
    # a person keeps that theme as it is: its proposals are declined, and the next refit holds
    # what it carves out of it without proposing it again
    apply_edit(settings, "keep", parents[0], reason="one problem for our team")
    again_kept = apply_edit(settings, "keep", parents[0], reason="clicked twice")
    assert again_kept["changed"] is False and again_kept["edit"] is None  # not logged twice
    listing = json.loads(run_cli("taxonomy", "list", "--format", "json", home=settings.home).stdout)
    assert parents[0] not in {p["theme_id"] for p in listing["proposals"]}
    assert next(t for t in listing["themes"] if t["theme_id"] == parents[0])["kept"]
    kept = fit_themes(settings, seed=7, granularity=2.0, promote="never")
    assert not [p for p in kept.proposals if p.theme_id == parents[0]]
    new_theme = [p for p in kept.proposals if p.kind == "new_theme"]
    assert kept.metrics["themes_held_proposed"] == len(new_theme)
    assert kept.metrics["themes_held"] > len(new_theme)  # the kept theme's part: held, silently

    applied = fit_themes(settings, seed=7, granularity=2.0, promote="never", apply_new_themes=True)
    assert applied.metrics["themes_held"] == 0
    assert not [p for p in applied.proposals if p.kind == "new_theme"]
    assert applied.catalog.n_themes > held.catalog.n_themes
    assert applied.checks["id_stability_value"] < held.checks["id_stability_value"]
