"""`rca demo`: generate the demo contact stream and run every stage that exists on it."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from rca.cli.app import HomeOption, app, settings_for, stderr
from rca.cli.output import Format, emit
from rca.ingest.pipeline import ingest_paths


@app.command()
def demo(
    contacts: Annotated[int, typer.Option("--contacts", "-n", min=100)] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
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

    emit(
        {
            "command": "demo",
            "home": str(settings.home),
            "contacts_file": str(contacts_csv),
            "truth_file": str(truth_csv),
            "manifest_file": str(manifest),
            "stages": stages,
        },
        stages,
        fmt,
        title="rca demo",
        columns=["stage", "items", "seconds", "per_second", "detail"],
    )


def _stage(name: str, items: int, seconds: float, detail: str) -> dict[str, object]:
    return {
        "stage": name,
        "items": items,
        "seconds": round(seconds, 3),
        "per_second": round(items / seconds, 1) if seconds > 0 else None,
        "detail": detail,
    }
