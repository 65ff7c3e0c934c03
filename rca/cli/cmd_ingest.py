"""`rca ingest PATH... [--mapping FILE] [--show-rejected]`."""

from __future__ import annotations

from typing import Annotated

import typer

from rca.cli.app import HomeOption, app, settings_for, stderr
from rca.cli.output import Format, emit
from rca.ingest.pipeline import ingest_paths
from rca.settings import Settings
from rca.store import Store
from rca.store.contacts import ingest_rejects, list_quarantine
from rca.text.counted import counted

SUMMARY_COLUMNS = ["file", "encoding", "read", "inserted", "updated", "unchanged", "quarantined"]


@app.command()
def ingest(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Files, folders or globs (CSV, JSONL, Parquet).")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option("--mapping", "-m", help="Mapping file (TOML/YAML) or preset name."),
    ] = None,
    show_rejected: Annotated[
        bool, typer.Option("--show-rejected", help="List quarantined rows (newest first).")
    ] = False,
    limit: Annotated[int, typer.Option(help="Rows to list with --show-rejected.")] = 100,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Load contact exports into the store; bad rows are quarantined with a reason."""
    settings = settings_for(home)
    if paths:
        quiet = fmt is not Format.table
        summary = ingest_paths(
            paths, settings, mapping_spec=mapping, progress=None if quiet else stderr
        )
        rows = [vars(f) for f in summary.files]
        emit(
            {"command": "ingest", **summary.to_dict()},
            rows,
            fmt,
            title=f"ingest {summary.ingest_id} ({summary.seconds:.1f} s)",
            columns=SUMMARY_COLUMNS,
        )
        if fmt is Format.table:
            for f in summary.files:
                for note in f.notes:
                    stderr(f"  {f.file}: {note}")
            totals = summary.totals()
            if totals["quarantined"]:
                _say_rejects(settings, summary.ingest_id)
            stderr(
                "total: "
                + ", ".join(f"{k} {v}" for k, v in totals.items())
                + f" in {summary.seconds:.1f} s"
            )
    elif not show_rejected:
        raise typer.BadParameter("give at least one PATH, or --show-rejected")
    if show_rejected:
        with Store(settings.store_path).read() as con:
            rejected = list_quarantine(con, limit)
        records = rejected.to_dict(orient="records")
        shown = records
        if fmt is Format.table:  # a table cell cannot hold a whole row; JSON/CSV get it all
            shown = [{**r, "raw": _shorten(r["raw"])} for r in records]
        emit(
            {"command": "rejected", "rows": records},
            shown,
            fmt,
            title="quarantined rows",
        )


RAW_PREVIEW_CHARS = 60
#: kinds of reason listed after an ingest; `--show-rejected` lists the rows
REJECT_KINDS_SHOWN = 5


def _say_rejects(settings: Settings, ingest_id: str) -> None:
    """Why rows were quarantined, one line per kind with its first row, so a file whose every
    row failed for one reason says which and how to fix it without another command."""
    with Store(settings.store_path).read() as con:
        kinds = ingest_rejects(con, ingest_id)
    for r in kinds.head(REJECT_KINDS_SHOWN).itertuples():
        detail = str(r.example).removeprefix(f"{r.kind}: ") if r.example != r.kind else ""
        first = f"first at line {r.line} of {r.file}" + (f": {detail}" if detail else "")
        stderr(f"  quarantined {counted(int(r.rows), 'row')}, {r.kind}; {first}")
    if len(kinds) > REJECT_KINDS_SHOWN:
        stderr(f"  and {counted(len(kinds) - REJECT_KINDS_SHOWN, 'other reason')}")
    stderr("  every row: rca ingest --show-rejected")


def _shorten(text: str) -> str:
    return text if len(text) <= RAW_PREVIEW_CHARS else text[: RAW_PREVIEW_CHARS - 1] + "…"
