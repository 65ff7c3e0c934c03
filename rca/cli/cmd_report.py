"""`rca report`: the weekly emerging-spike e-mail for program managers (a batch job).

The SMTP login is read from Settings / the environment only, never from arguments, so it does
not end up in shell history, cron files or process lists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rca.cli.app import HomeOption, app, settings_for, stderr
from rca.cli.output import Format, emit


@app.command()
def report(
    period: Annotated[str, typer.Option(help="last-week (default), 2026-W46, latest…")] = (
        "last-week"
    ),
    to: Annotated[
        str, typer.Option("--to", help="Comma-separated recipients, e.g. a@x.com,b@x.com.")
    ] = "",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the .eml, HTML and charts instead.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for --dry-run.", show_default=False)
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Send even if this period already went to this list.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """E-mail the emerging spikes, new themes and top repeat drivers of a period (once)."""
    from rca.report.job import parse_recipients, run_report

    if dry_run and out is None:
        raise typer.BadParameter("--dry-run needs --out DIR", param_hint="--out")
    if out is not None and not dry_run:
        raise typer.BadParameter("--out is only for --dry-run", param_hint="--out")
    recipients = parse_recipients(to)
    if not dry_run and not recipients:
        raise typer.BadParameter("give at least one recipient", param_hint="--to")
    outcome = run_report(
        settings_for(home),
        period=period,
        recipients=recipients,
        dry_run=dry_run,
        out=out,
        force=force,
        say=stderr,
    )
    row = {k: v for k, v in outcome.payload().items() if k in ROW_KEYS}
    emit(outcome.payload(), [row], fmt, title="rca report", columns=ROW_KEYS)
    if fmt is Format.table:
        if outcome.status == "already-sent":
            stderr(f"{outcome.period} already went to this list at {outcome.sent_at}: nothing "
                   "sent (use --force to send again)")  # fmt: skip
        elif outcome.status == "skipped":
            stderr(f"{outcome.period} is quiet and RCA_REPORT_WHEN_QUIET=skip: nothing sent")
        for path in outcome.files:
            typer.echo(path)


ROW_KEYS = ["period", "status", "subject", "n_spikes", "recipients", "message_id", "bytes"]
