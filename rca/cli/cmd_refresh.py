"""`rca refresh`: the daily incremental job (ingest, assign without a refit, is a refit due?)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rca.cli.app import HomeOption, app, settings_for, stderr
from rca.cli.output import Format, emit


def _rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The headline figures as (item, value) rows for the table and CSV views."""
    drift = payload["drift"]
    ingest = payload["ingest"] or {}
    totals = ingest.get("totals", {})
    repeats = (payload["repeats"] or {}).get("totals", {})
    spikes = payload["spikes"] or {}
    rows = [
        ("engine", payload["engine"]),
        ("model_version", payload["model_version"]),
        ("ingested_new", totals.get("inserted")),
        ("ingested_changed", totals.get("updated")),
        ("contacts_processed", payload["contacts_processed"]),
        ("new_vectors", payload["new_vectors"]),
        ("unassigned", payload["unassigned"]),
        ("window_contacts", drift["window_contacts"]),
        ("window_unassigned_fraction", drift["unassigned_fraction"]),
        ("fit_unassigned_fraction", drift["fit_unassigned_fraction"]),
        ("drift_limit", drift["limit"]),
        ("new_regions", len(payload["new_regions"])),
        ("spike_period", spikes.get("period")),
        ("spikes", len(spikes.get("spikes", [])) if spikes else None),
        ("repeat_contacts", repeats.get("repeat")),
        ("repeat_rate", repeats.get("repeat_rate")),
        ("refit_due", payload["refit_due"]),
        ("seconds_total", payload["seconds"].get("total")),
    ]
    return [{"item": k, "value": v} for k, v in rows]


@app.command()
def refresh(
    paths: Annotated[
        list[str] | None, typer.Argument(help="New export files, folders or globs (optional).")
    ] = None,
    mapping: Annotated[
        str | None, typer.Option(help="Mapping preset (zendesk, salesforce) or file.")
    ] = None,
    engine: Annotated[str, typer.Option(help="local (this process) | ray (Ray Data jobs).")] = (
        "local"
    ),
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster, e.g. ray://head:10001 (default RCA_RAY_ADDRESS or local)."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Ingest new files, assign new contacts to the champion (no refit), say if a refit is due.

    Exits 0 whether or not a refit is due: read `refit_due` and `reasons` in the JSON.
    """
    from rca.jobs.refresh import ENGINES
    from rca.jobs.refresh import refresh as run_refresh

    if engine not in ENGINES:
        raise typer.BadParameter(f"--engine must be one of {', '.join(ENGINES)}")
    result = run_refresh(
        settings_for(home),
        list(paths or []),
        mapping_spec=mapping,
        engine=engine,
        address=address,
        say=stderr if fmt is Format.table else (lambda _m: None),
    )
    payload = result.payload()
    emit(payload, _rows(payload), fmt, title=f"refresh (model {result.model_version})")
    if fmt is Format.table:
        for note in result.notes:
            stderr(note)
        for spike in (result.spikes or {}).get("spikes", []):
            stderr(
                f"spike {spike['theme_id']} {spike['label']}: {spike['kind']} "
                f"({spike['severity']}), {spike['observed']} contacts"
            )
        if result.refit_due:
            stderr("refit due: " + "; ".join(result.reasons))
        else:
            stderr("no refit due")
