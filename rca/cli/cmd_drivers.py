"""`rca drivers` and `rca examples`: what brings customers back, and cases to write SOPs from."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from rca.cli.app import HomeOption, PeriodOption, app, granularity_level, settings_for, stderr
from rca.cli.output import Format, emit, printable

#: The table shows the headline figures; each driver's summary line below it has the rest.
DRIVER_COLUMNS = [
    "rank",
    "theme_id",
    "label",
    "score",
    "repeat_contacts",
    "repeat_rate",
    "escalated_repeats",
    "repeat_handle_h",
    "trend_direction",
]
#: The same for a store without customer ids: what the contacts themselves show.
CONTACT_DRIVER_COLUMNS = [
    "rank",
    "theme_id",
    "label",
    "score",
    "contacts",
    "escalated",
    "handle_h",
    "trend_direction",
]
#: Columns of a component the store does not measure (`rca.repeats.drivers.OPTIONAL_COMPONENTS`).
UNMEASURED_COLUMNS = {
    "escalation": {"escalated_repeats", "escalated"},
    "handle_time": {"repeat_handle_h", "handle_h"},
}
EXAMPLE_TABLE_COLUMNS = ["rank", "contact_id", "channel", "is_escalation", "resolution", "text"]
CHAIN_TABLE_COLUMNS = ["chain_id", "chain_pos", "contact_id", "days_since_previous", "text"]
#: Characters of text shown per case in the table view (JSON and CSV carry it whole).
TABLE_TEXT_CHARS = 100
SECONDS_PER_HOUR = 3600.0


def _hours(seconds: object) -> float | None:
    """Seconds as hours; null stays null (a figure the store does not measure)."""
    return None if seconds is None else float(seconds) / SECONDS_PER_HOUR  # type: ignore[arg-type]


def _flat(driver: dict[str, object]) -> dict[str, object]:
    figures = driver["figures"]
    assert isinstance(figures, dict)
    return {
        **{k: v for k, v in driver.items() if k not in ("figures", "components", "trend")},
        **figures,
        "repeat_handle_h": _hours(figures["repeat_handle_time_s"]),
        "handle_h": _hours(figures["handle_time_s_total"]),
    }


@app.command()
def drivers(
    period: PeriodOption = "latest",
    top: Annotated[int, typer.Option(min=1, help="How many drivers to list.")] = 10,
    granularity: Annotated[
        str | None,
        typer.Option(
            help="fine: themes; parent: their parent groups, each the sum of its themes "
            "(default RCA_GRANULARITY, fine)."
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Themes ranked by the repeat complaints they cause, with the figures behind each score."""
    from rca.queries.repeat_drivers import drivers_payload

    settings = settings_for(home)
    level = granularity_level(granularity, settings)
    payload = drivers_payload(settings, period=period, top=top, granularity=level)
    rows = [_flat(d) for d in payload["drivers"]]
    if level == "parent":
        for row in rows:
            row["themes"] = ", ".join(row.get("theme_ids") or [])
    heading = payload["heading"] + (" (parent groups)" if level == "parent" else "")
    title = f"top {heading}, {payload['period']}"
    if payload["incomplete"]:
        title += " (last repeat window still open: one-and-done rates are partial)"
    columns = DRIVER_COLUMNS if payload["basis"] == "repeats" else CONTACT_DRIVER_COLUMNS
    unmeasured = set().union(
        *(cols for c, cols in UNMEASURED_COLUMNS.items() if c not in payload["measured"])
    )
    columns = [c for c in columns if c not in unmeasured]
    if level == "parent":  # a group's key is its name: the label column says it once
        columns = [c for c in columns if c != "theme_id"]
        columns = [*columns[:2], "themes", *columns[2:]]
    emit({"command": "drivers", **payload}, rows, fmt, title=title, columns=columns)
    if fmt is Format.table:
        if payload["note"]:
            stderr(payload["note"])
        for row in rows:
            typer.echo(printable(f"{row['rank']}. {row['label']}: {row['summary']}"))


@app.command()
def examples(
    theme: Annotated[str, typer.Argument(help="Theme id, e.g. T0001 (see `rca themes`).")],
    n: Annotated[int, typer.Option("--n", min=1, help="Cases (for --kind repeat: chains).")] = 10,
    kind: Annotated[
        str, typer.Option(help="representative | recent | escalated | repeat")
    ] = "representative",
    bom: Annotated[
        bool, typer.Option("--bom", help="CSV: start with a UTF-8 byte-order mark (for Excel).")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Example cases of a theme for SOP authors: redacted text, contact ids, dimensions."""
    from rca.queries.repeat_drivers import examples_frame
    from rca.repeats.examples import KINDS, case_records, cases_to_csv

    if kind not in KINDS:
        raise typer.BadParameter(f"--kind must be one of {', '.join(KINDS)}")
    settings = settings_for(home)
    cases = examples_frame(settings, theme, kind=kind, n=n)
    if fmt is Format.csv:
        sys.stdout.flush()  # bytes, so the encoding and CRLF row ends survive any locale
        sys.stdout.buffer.write(cases_to_csv(cases, bom=bom, tz=settings.tz).encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    records = case_records(cases)
    rows = [{**r, "text": " ".join(str(r["text"]).split())[:TABLE_TEXT_CHARS]} for r in records]
    emit(
        {"command": "examples", "theme_id": theme, "kind": kind, "n": n, "cases": records},
        rows,
        fmt,
        title=f"{kind} cases of {theme}",
        columns=_filled(rows, CHAIN_TABLE_COLUMNS if kind == "repeat" else EXAMPLE_TABLE_COLUMNS),
    )


def _filled(rows: list[dict[str, object]], columns: list[str]) -> list[str]:
    """The table's columns minus those no row has a value in (a channel never mapped)."""
    return [c for c in columns if any(_present(r.get(c)) for r in rows)] or columns


def _present(value: object) -> bool:
    return value is not None and value == value and value != ""  # NaN != NaN


VENDOR_COLUMNS = [
    "contacts", "aht_s", "escalation_rate", "resolutions", "window_open", "repeat_rate",
    "repeat_raw_flag", "repeat_ratio", "repeat_ratio_low", "repeat_ratio_high", "repeat_flag",
    "repeat_shrunk_ratio", "aht_ratio", "aht_flag", "escalation_ratio", "escalation_flag",
]  # fmt: skip


ALERT_COLUMNS = ["metric", "observed", "expected", "ratio", "q_value", "severity", "method"]
# The table a person reads in a terminal: each O/E with its 95 % interval and flag in one cell,
# so it fits a terminal; CSV and JSON keep every raw column (VENDOR_COLUMNS).
VENDOR_TABLE_COLUMNS = [
    "contacts", "AHT s", "AHT O/E (95%)", "escalations", "escal. O/E (95%)", "resolutions",
    "repeat rate", "repeats O/E (95%)", "shrunk",
]  # fmt: skip


def _oe_cell(row: dict[str, Any], metric: str) -> str:
    """``0.96 (0.83-1.12) high``: the ratio, its interval and its flag after Holm's correction."""
    ratio = row.get(f"{metric}_ratio")
    if not _present(ratio):
        return ""
    low, high = row.get(f"{metric}_ratio_low"), row.get(f"{metric}_ratio_high")
    cell = f"{ratio:.2f}" + (f" ({low:.2f}-{high:.2f})" if _present(low) and _present(high) else "")
    return f"{cell} {row.get(f'{metric}_flag') or ''}".rstrip()


def _percent(value: object) -> str:
    return f"{100 * float(value):.1f}%" if _present(value) else ""  # type: ignore[arg-type]


def vendor_table_rows(rows: list[dict[str, Any]], level: str) -> list[dict[str, Any]]:
    """Scorecard rows as the terminal table shows them (:data:`VENDOR_TABLE_COLUMNS`)."""
    out = []
    for row in rows:
        open_ = row.get("window_open") or 0
        resolutions = f"{row['resolutions']:.0f}" if _present(row.get("resolutions")) else ""
        shrunk = row.get("repeat_shrunk_ratio")
        out.append({
            level: row.get(level),
            "contacts": row.get("contacts"),
            "AHT s": f"{row['aht_s']:.0f}" if _present(row.get("aht_s")) else "",
            "AHT O/E (95%)": _oe_cell(row, "aht"),
            "escalations": _percent(row.get("escalation_rate")),
            "escal. O/E (95%)": _oe_cell(row, "escalation"),
            "resolutions": resolutions + (f" ({open_:.0f} open)" if open_ else ""),
            "repeat rate": _percent(row.get("repeat_rate")),
            "repeats O/E (95%)": _oe_cell(row, "repeat"),
            "shrunk": f"{shrunk:.2f}" if _present(shrunk) else "",
        })  # fmt: skip
    return out


@app.command()
def vendors(
    period: PeriodOption = "latest",
    level: Annotated[str, typer.Option(help="vendor | site | team | agent_id")] = "vendor",
    span: Annotated[
        int, typer.Option(min=1, help="Periods covered, ending with --period (13: a quarter).")
    ] = 1,
    alerts: Annotated[
        bool,
        typer.Option(
            "--alerts",
            help="Daily/weekly tracking instead: handlers whose contacts, AHT or repeat rate "
            "jumped in the period (a day's name scores days).",
        ),
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Scorecard per vendor, site, team or agent: repeats charged to the handler whose
    resolution failed, compared with what its mix of problems predicts (O/E, 95 % interval)."""
    from rca.queries.vendor_scorecard import vendor_alerts_payload, vendors_payload

    if alerts:
        tracked = vendor_alerts_payload(settings_for(home), period=period, level=level)
        emit(
            {"command": "vendors", **tracked},
            tracked["alerts"],
            fmt,
            title=f"{level} alerts, {tracked['period']} ({tracked['scored']} scored)",
            columns=[level, *ALERT_COLUMNS],
        )
        if fmt is Format.table:
            for note in tracked["notes"]:
                stderr(note)
        return
    payload = vendors_payload(settings_for(home), period=period, level=level, span=span)
    rows = payload["handlers"]
    table = fmt is Format.table
    emit(
        {"command": "vendors", **payload},
        vendor_table_rows(rows, level) if table else rows,
        fmt,
        title=f"{level} scorecard, {payload['period']}",
        columns=[level, *(VENDOR_TABLE_COLUMNS if table else VENDOR_COLUMNS)],
    )
    if fmt is Format.table:
        for note in payload["notes"]:
            stderr(note)
        for cell in payload["shortfalls"]:
            typer.echo(
                printable(
                    f"falls short: {cell[level]} on {cell['label'] or cell['problem_theme_id']}: "
                    f"{cell['returned']:.0f} returns against {cell['expected']:.1f} expected "
                    f"(x{cell['ratio']:.2f}, 95% {cell['ratio_low']:.2f}-{cell['ratio_high']:.2f})"
                )
            )
