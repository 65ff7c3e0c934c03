"""`rca fit`, `rca assign`, `rca themes`, `rca promote`: the theme model's commands."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer

from rca.cli.app import HomeOption, PeriodOption, app, granularity_level, settings_for, stderr
from rca.cli.output import Format, emit
from rca.errors import RcaError
from rca.settings import Settings
from rca.store.db import first_row

THEME_COLUMNS = [
    "theme_id", "label", "volume", "share", "growth", "parent_group", "keywords", "description",
]  # fmt: skip
GROUP_TABLE_COLUMNS = [
    "label",
    "volume",
    "share",
    "growth",
    "repeat_rate",
    "spike_status",
    "themes",
]


def _day(value: str | None, settings: Settings) -> datetime | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise RcaError(f"{value!r} is not a date (YYYY-MM-DD)") from exc
    return datetime(day.year, day.month, day.day, tzinfo=settings.tz)


@app.command()
def fit(
    since: Annotated[str | None, typer.Option(help="First day of the window (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Day after the window (YYYY-MM-DD).")] = None,
    weeks: Annotated[
        int | None, typer.Option(help="Window: the last N weeks of contacts (overrides --since).")
    ] = None,
    granularity: Annotated[
        float, typer.Option(help="> 1 finer themes, < 1 coarser; 1 = automatic.")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed of the reduction and clustering.")] = 42,
    promote: Annotated[
        str, typer.Option(help="auto (if the checks pass) | always | never")
    ] = "auto",
    rechoose_granularity: Annotated[
        bool,
        typer.Option(
            "--rechoose-granularity",
            help="Let the data choose the number of themes again instead of keeping the "
            "champion's choice (RCA_FIT_THEME_SIZE=plscan or persistence).",
        ),
    ] = False,
    apply_new_themes: Annotated[
        bool,
        typer.Option(
            "--apply-new-themes",
            help="Apply the themes this refit carves out of existing ones; by default they are "
            "proposals (`rca taxonomy list`) and their contacts keep their theme "
            "(RCA_REFIT_NEW_THEMES).",
        ),
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Fit themes on the store's contacts, keep ids stable, log to MLflow, maybe promote."""
    from rca.jobs.fit import fit_themes
    from rca.store import Store

    if promote not in {"auto", "always", "never"}:
        raise typer.BadParameter("--promote must be auto, always or never")
    settings = settings_for(home)
    start = _day(since, settings)
    if weeks is not None:
        with Store(settings.store_path).read() as con:
            (last,) = first_row(con, "SELECT max(created_at) FROM contacts") or (None,)
        start = (last or datetime.now(UTC)) - timedelta(weeks=weeks)
    result = fit_themes(
        settings,
        since=start,
        until=_day(until, settings),
        granularity=granularity,
        seed=seed,
        promote=promote,
        say=stderr if fmt is Format.table else (lambda _m: None),
        rechoose_granularity=rechoose_granularity,
        apply_new_themes=apply_new_themes or None,
    )
    table = result.catalog.table().sort_values("size", ascending=False)
    payload = {
        "command": "fit",
        "model_version": result.catalog.model_version,
        "registry_version": result.registry_version,
        "mlflow_run_id": result.run_id,
        "promoted": result.promoted,
        "checks": result.checks,
        "metrics": result.metrics,
        "granularity": asdict(result.granularity) if result.granularity else None,
        "themes": table.to_dict(orient="records"),
        "lineage": result.events.to_dict(orient="records"),
    }
    emit(
        payload,
        table.to_dict(orient="records"),
        fmt,
        title="themes",
        columns=["theme_id", "label", "size", "parent_label", "keywords"],
    )
    if fmt is Format.table:
        m = result.metrics
        stderr(
            f"model {result.catalog.model_version} (rca-themes v{result.registry_version}): "
            f"{int(m['n_themes'])} themes, {m['unassigned_fraction']:.1%} unassigned, "
            f"{'promoted to champion' if result.promoted else 'not promoted'}"
            f"{_checks_words(result.checks, settings)}"
        )


def _checks_words(checks: dict[str, object], settings: Settings) -> str:
    """The promotion checks as a reader says them, not as a Python dict."""
    assigned = float(checks.get("assigned_value") or 0.0)
    stability = checks.get("id_stability_value")
    parts = [
        f"{assigned:.0%} assigned (needs {settings.promote_min_assigned:.0%})"
        f"{'' if checks.get('assigned_fraction') else ': too few'}",
    ]
    if isinstance(stability, float) and stability == stability:  # not NaN: a champion exists
        parts.append(
            f"id stability {stability:.2f} (needs {settings.promote_min_stability:.2f})"
            f"{'' if checks.get('id_stability') else ': too low'}"
        )
    return " — " + "; ".join(parts)


@app.command()
def assign(
    all_contacts: Annotated[
        bool, typer.Option("--all", help="Reassign every contact, not only new ones.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Assign contacts to the champion model's themes without refitting."""
    from rca.jobs.assign import assign_contacts

    result = assign_contacts(settings_for(home), reassign_all=all_contacts)
    row = {
        "model_version": result.model_version,
        "contacts": result.contacts,
        "unassigned": result.unassigned,
        "embed_seconds": round(result.embed_seconds, 3),
        "assign_seconds": round(result.assign_seconds, 3),
    }
    emit({"command": "assign", **row}, [row], fmt, title="assign")


@app.command()
def themes(
    period: PeriodOption = "latest",
    top: Annotated[int, typer.Option(help="How many themes (or groups) to list.")] = 20,
    granularity: Annotated[
        str | None,
        typer.Option(
            help="fine: the themes; parent: their parent groups, each with its themes "
            "(default RCA_GRANULARITY, fine)."
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """The champion's themes (or parent groups) with their volume, share and growth."""
    from rca.periods import parse_period
    from rca.store import Store
    from rca.store.curation import open_proposals
    from rca.store.themes import require_champion, theme_volumes
    from rca.trends.coverage import coverage_of

    settings = settings_for(home)
    level = granularity_level(granularity, settings)
    if level == "parent":
        _parent_themes(settings, period, top, fmt)
        return
    with Store(settings.store_path).read() as con:
        version = require_champion(con)
        (latest,) = first_row(con, "SELECT max(created_at) FROM contacts") or (None,)
        chosen = parse_period(
            period, kind=settings.period, tz=settings.tz, now=datetime.now(UTC), latest=latest
        )
        created = con.execute("SELECT created_at FROM contacts").df()["created_at"]
        coverage = coverage_of(created, settings.tz)
        span = (
            coverage.compared_span(chosen, settings.spike_partial_tolerance) if coverage else None
        )
        previous_start = chosen.start - (chosen.end - chosen.start)
        frame = theme_volumes(
            con, version, chosen.start, chosen.end, previous_start,
            previous_end=previous_start + span if span is not None else None,
        )  # fmt: skip
        proposals = open_proposals(con, version)
    note = (
        coverage.period_note(chosen, settings.spike_partial_tolerance)
        if coverage is not None
        else "the store has no contacts"
    )
    # hidden themes (small talk, spam: `rca taxonomy hide`) are counted, not listed
    hidden = frame["hidden"].fillna(False).astype(bool)
    if fmt is Format.table:  # a name a person chose, which a refit keeps
        pinned = frame["pinned"].fillna(False).astype(bool)
        frame.loc[pinned, "label"] = frame.loc[pinned, "label"] + " (pinned)"
    rows = frame.loc[~hidden].head(top).to_dict(orient="records")
    emit(
        {
            "command": "themes",
            "granularity": "fine",
            "model_version": version,
            "period": chosen.name,
            "period_start": chosen.start,
            "period_end": chosen.end,
            "total_volume": int(frame["volume"].sum()),
            "hidden_volume": int(frame.loc[hidden, "volume"].sum()),
            "hidden_themes": frame.loc[hidden, "theme_id"].tolist(),
            "taxonomy_proposals": proposals,
            "note": note,
            "themes": rows,
        },
        rows,
        fmt,
        title=f"top themes, {chosen.name} (model {version})",
        columns=THEME_COLUMNS,
    )
    if fmt is Format.table and note:
        stderr(note)
    if fmt is Format.table and hidden.any():
        stderr(
            f"{int(hidden.sum())} hidden themes ({int(frame.loc[hidden, 'volume'].sum())} "
            "contacts) left out: `rca taxonomy list`"
        )
    if fmt is Format.table:
        for proposal in proposals:
            stderr(f"taxonomy proposal: {proposal['message']}")


def _parent_themes(settings: Settings, period: str, top: int, fmt: Format) -> None:
    """`rca themes --granularity parent`: the figures of the API's and the dashboard's parent
    level (`rca.queries.theme_figures.group_table`), each group with its fine themes."""
    from rca.queries.repeat_drivers import choose_period, load_repeat_analysis
    from rca.queries.spike_report import analyse_parents
    from rca.queries.theme_figures import (
        group_table,
        has_parent_groups,
        not_measured,
        period_volume,
        theme_table,
    )

    analysis = load_repeat_analysis(settings)
    chosen = choose_period(analysis, period, settings)
    coverage = analysis.coverage
    span = coverage.compared_span(chosen, settings.spike_partial_tolerance) if coverage else None
    fine = theme_table(
        analysis.marked, analysis.themes, analysis.periods, chosen, compared_span=span
    )
    try:  # the groups' own spikes, scored as `rca spikes --granularity parent` scores them
        spikes = analyse_parents(analysis.marked, analysis.themes, chosen, settings,
                                 coverage=analysis.coverage).driver_context()  # fmt: skip
    except RcaError:
        spikes = {}
    status = {key: s["spike_status"] for key, s in spikes.items()}
    groups = group_table(fine, analysis.themes, spike_status=status)
    hidden = fine["hidden"]
    notes = (
        coverage.period_note(chosen, settings.spike_partial_tolerance)
        if coverage is not None
        else "the store has no contacts",
        ""
        if has_parent_groups(analysis.themes)
        else "no useful parent level in this model: each theme is its own group",
    )
    note = "; ".join(n for n in notes if n)
    rows = groups.head(top).to_dict(orient="records")
    emit(
        {
            "command": "themes",
            "granularity": "parent",
            "model_version": analysis.model_version,
            "period": chosen.name,
            "period_start": chosen.start,
            "period_end": chosen.end,
            "total_volume": period_volume(analysis.marked, chosen),
            "hidden_volume": int(fine.loc[hidden, "volume"].sum()),
            "hidden_themes": fine.loc[hidden, "theme_id"].tolist(),
            "note": note,
            "groups": rows,
        },
        [{**r, "themes": [f"{t['label']} ({t['volume']})" for t in r["themes"]]} for r in rows],
        fmt,
        title=f"top parent groups, {chosen.name} (model {analysis.model_version})",
        columns=[c for c in GROUP_TABLE_COLUMNS if c not in not_measured(analysis.marked)],
    )
    if fmt is Format.table and note:
        stderr(note)


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="rca-themes registry version to promote.")],
    home: HomeOption = None,
) -> None:
    """Make a registered model version the champion used by assign and the API."""
    from rca.jobs.tracking import check_registered, set_champion
    from rca.store import Store
    from rca.store.themes import find_model, set_champion_row

    settings = settings_for(home)
    with Store(settings.store_path).write() as con:
        row = find_model(con, registry_version=version)
        if row is None:
            raise RcaError(f"no fitted model with registry version {version} in this store")
        check_registered(settings, row)  # refuse when the registry's version is another model
        set_champion_row(con, row.model_version)
        set_champion(settings, version)
    stderr(f"rca-themes v{version} ({row.model_version}) is now champion")


@app.command()
def evaluate(
    input_file: Annotated[str, typer.Option("--input", "-i", help="Labelled CSV/JSONL/Parquet.")],
    text_col: Annotated[str, typer.Option(help="Column with the contact text.")] = "text",
    label_col: Annotated[str, typer.Option(help="Column with the contact reason.")] = "label",
    parent_label_col: Annotated[
        str | None,
        typer.Option(help="Optional coarser reason column: scores the parent groups against it."),
    ] = None,
    granularity: Annotated[float, typer.Option(help="> 1 finer, < 1 coarser.")] = 1.0,
    seed: Annotated[int, typer.Option()] = 42,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Fit themes with the labels hidden, then score them against the labels."""
    from pathlib import Path

    from rca.jobs.evaluate import evaluate_file

    result = evaluate_file(
        settings_for(home),
        Path(input_file),
        text_col=text_col,
        label_col=label_col,
        parent_label_col=parent_label_col,
        granularity=granularity,
        seed=seed,
    )
    listed = ("themes", "parent_groups")
    rows = [{"metric": k, "value": v} for k, v in result.items() if k not in listed]
    emit({"command": "evaluate", **result}, rows, fmt, title=f"evaluate {input_file}")
    if fmt is not Format.table:
        return
    # which names miss, theme by theme: what a reviewer reads after the label score
    for key, what in (("themes", "theme"), ("parent_groups", "group")):
        if result.get(key):
            emit(
                {},
                result[key],
                fmt,
                title=f"{key.replace('_', ' ')}: name and keyword label beside the majority reason",
                columns=[what, "size", "name", "nearest", "keywords_label", "keywords_nearest",
                         "majority", "majority_share"],
            )  # fmt: skip
