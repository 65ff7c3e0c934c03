"""`rca spikes`: the themes rising abnormally in a period, and what drives each rise."""

from __future__ import annotations

from typing import Annotated

import typer

from rca.cli.app import HomeOption, PeriodOption, app, granularity_level, settings_for, stderr
from rca.cli.output import Format, emit

SPIKE_COLUMNS = [
    "theme_id",
    "label",
    "kind",
    "severity",
    "observed",
    "expected",
    "growth",
    "q_value",
    "first_seen",
    "cause",
]


@app.command()
def spikes(
    period: PeriodOption = "latest",
    min_severity: Annotated[
        str, typer.Option("--min-severity", help="low | medium | high: hide milder spikes.")
    ] = "low",
    granularity: Annotated[
        str | None,
        typer.Option(
            help="fine: spikes of themes; parent: of parent groups (the sum of their themes' "
            "contacts, scored the same way; default RCA_GRANULARITY, fine)."
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Emerging spikes and new themes in a period, each with its root cause."""
    from rca.queries.spike_report import detect_spikes

    settings = settings_for(home)
    level = granularity_level(granularity, settings)
    report = detect_spikes(settings, period, min_severity=min_severity, granularity=level)
    rows = report.rows()
    if fmt is Format.table:  # a new theme's first day in the configured zone; JSON keeps UTC
        from rca.text.moments import moment_text

        rows = [{**r, "first_seen": moment_text(r.get("first_seen"), settings.tz,
                                                date_only=True)} for r in rows]  # fmt: skip
    emit(
        report.payload(),
        rows,
        fmt,
        title=f"{'parent-group ' if level == 'parent' else ''}spikes, {report.period.name} "
        f"(model {report.model_version})",
        columns=SPIKE_COLUMNS,
    )
    if fmt is Format.table:
        if report.note:
            stderr(report.note)
        total = report.total
        if total.get("alert"):
            cause = (total.get("root_cause") or {}).get("sentence", "")
            stderr(
                f"total volume surge: {total['observed']} contacts, expected "
                f"{total['expected']:.0f} ({total['severity']}). {cause}"
            )
        if not report.spikes:
            stderr(f"no spikes in {report.period.name}")
