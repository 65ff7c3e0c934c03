"""`rca demo`: generate the demo contact stream and run every stage that exists on it."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from rca.cli.app import HomeOption, app, settings_for, stderr
from rca.cli.output import Format, emit
from rca.ingest.pipeline import ingest_paths
from rca.periods import period_of
from rca.settings import Settings

TOP_THEMES = 10


@app.command()
def demo(
    contacts: Annotated[int, typer.Option("--contacts", "-n", min=100)] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    fit: Annotated[
        bool, typer.Option("--fit/--no-fit", help="Run the theme stages after ingest.")
    ] = True,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Build the demo stream from Banking77 + Bitext, ingest it, and run each stage."""
    from rca.demo import DemoConfig, write_demo  # lazy: keeps `rca --help` fast

    settings = settings_for(home)
    stages: list[dict[str, object]] = []
    out_dir = settings.home / "demo"

    started = time.perf_counter()
    contacts_csv, truth_csv, manifest = write_demo(
        out_dir, settings.datasets_dir, DemoConfig(n_contacts=contacts, seed=seed)
    )
    seconds = time.perf_counter() - started
    stages.append(_stage("generate", contacts, seconds, str(contacts_csv)))
    stderr(f"generated {contacts} contacts in {seconds:.1f} s -> {contacts_csv}")

    summary = ingest_paths([str(contacts_csv)], settings)
    totals = summary.totals()
    stages.append(_stage("ingest", totals["read"], summary.seconds, f"{totals}"))
    stderr(f"ingested {totals['read']} rows in {summary.seconds:.1f} s: {totals}")

    top_themes: list[dict[str, object]] = []
    if fit:
        top_themes = _theme_stages(settings, stages)

    emit(
        {
            "command": "demo",
            "home": str(settings.home),
            "contacts_file": str(contacts_csv),
            "truth_file": str(truth_csv),
            "manifest_file": str(manifest),
            "stages": stages,
            "top_themes": top_themes,
        },
        stages,
        fmt,
        title="rca demo",
        columns=["stage", "items", "seconds", "per_second", "detail"],
    )
    if fmt is Format.table and top_themes:
        emit(
            {},
            top_themes,
            fmt,
            title="top themes of the last week",
            columns=["theme_id", "label", "volume", "share", "growth"],
        )


def _theme_stages(settings: Settings, stages: list[dict[str, object]]) -> list[dict[str, object]]:
    """Fit, then list the last week's top themes; each stage's throughput is recorded."""
    from rca.fit import fit_themes
    from rca.store import Store
    from rca.store.db import first_row
    from rca.store.themes import theme_volumes

    result = fit_themes(settings, promote="always", say=stderr)
    n = int(result.metrics["n_contacts"])
    embed_s = result.seconds.get("embed", 0.0)
    stages.append(
        _stage("embed", n, embed_s, f"{result.metrics.get('embed_texts_per_s', 0):.0f} new texts/s")
    )
    fit_s = result.seconds["cluster"] + result.seconds["describe"]
    stages.append(
        _stage(
            "fit",
            n,
            fit_s,
            f"{int(result.metrics['n_themes'])} themes, "
            f"{result.metrics['unassigned_fraction']:.1%} unassigned",
        )
    )
    with Store(settings.store_path).read() as con:
        (latest,) = first_row(con, "SELECT max(created_at) FROM contacts") or (None,)
        week = period_of(latest, "week", settings.tz)
        frame = theme_volumes(
            con,
            result.catalog.model_version,
            week.start,
            week.end,
            week.start - (week.end - week.start),
        )
    stderr(f"top themes of {week.name}:")
    return frame.head(TOP_THEMES).to_dict(orient="records")


def _stage(name: str, items: int, seconds: float, detail: str) -> dict[str, object]:
    return {
        "stage": name,
        "items": items,
        "seconds": round(seconds, 3),
        "per_second": round(items / seconds, 1) if seconds > 0 else None,
        "detail": detail,
    }
