"""`rca sop`: record an SOP change, list them, and see what each one did."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from rca.cli.app import HomeOption, PeriodOption, app, settings_for, stderr
from rca.cli.output import Format, emit, printable
from rca.errors import InvalidInputError
from rca.settings import Settings

sop_app = typer.Typer(help="SOP changes: record one, list them, show what each did.")
app.add_typer(sop_app, name="sop")
LIST_COLUMNS = ["change_id", "theme_ids", "effective_at", "title", "author", "status"]


def _moment(value: str, settings: Settings) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInputError(f"{value!r} is not a date or date-time (ISO 8601)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.tz)


@sop_app.command("add")
def sop_add(
    effective: Annotated[str, typer.Option(help="When it took effect: 2026-10-05 or ISO time.")],
    title: Annotated[str, typer.Option(help="What changed, in a line.")],
    theme: Annotated[
        list[str] | None,
        typer.Option("--theme", help="Stable theme id, e.g. T0004; repeat or T1,T2 for several."),
    ] = None,
    group: Annotated[
        str, typer.Option(help="A parent group's name (`rca themes`): all its themes today.")
    ] = "",
    description: Annotated[str, typer.Option(help="The change in words.")] = "",
    link: Annotated[str, typer.Option(help="Where the procedure lives.")] = "",
    author: Annotated[str, typer.Option(help="Who made the change.")] = "",
    market: Annotated[str, typer.Option(help="Scope: only this market.")] = "",
    channel: Annotated[str, typer.Option(help="Scope: only this channel.")] = "",
    vendor: Annotated[str, typer.Option(help="Scope: only this vendor.")] = "",
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Record an SOP change on one or more themes or a parent group (kept with an audit trail;
    survives refits; measured on the union of its themes against the others)."""
    from rca.store import Store
    from rca.store.sop import add_change, resolve_themes

    settings = settings_for(home)
    scope = {k: v for k, v in (("market", market), ("channel", channel), ("vendor", vendor)) if v}
    with Store(settings.store_path).write() as con:
        themes = resolve_themes(con, theme or [], group or None)
        change = add_change(
            con, theme_ids=themes, group=group.strip() or None,
            effective_at=_moment(effective, settings), title=title, now=datetime.now(UTC),
            description=description or None, link=link or None, author=author or None,
            scope=scope,
        )  # fmt: skip
    row = change.as_dict()
    emit({"command": "sop add", **row}, [row], fmt, title="SOP change", columns=LIST_COLUMNS)


@sop_app.command("list")
def sop_list(
    all_changes: Annotated[bool, typer.Option("--all", help="Retired ones too.")] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """The recorded SOP changes, oldest first."""
    from rca.store import Store
    from rca.store.sop import list_changes

    with Store(settings_for(home).store_path).read() as con:
        rows = [c.as_dict() for c in list_changes(con, include_retired=all_changes)]
    emit({"command": "sop list", "changes": rows}, rows, fmt, title="SOP changes",
         columns=LIST_COLUMNS)  # fmt: skip


@sop_app.command("show")
def sop_show(
    change_id: Annotated[str, typer.Argument(help="SOP-… (see `rca sop list`).")],
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """One change, its audit trail, and its effect on the theme's repeat and escalation rates
    against the other themes (with a 95 % interval, or 'too early')."""
    from rca.queries.sop_effects import change_report

    report = change_report(settings_for(home), change_id)
    rows = [{"metric": m, **e} for m, e in report["effects"].items()]
    emit({"command": "sop show", **report}, rows, fmt, title=report["change"]["title"],
         columns=["metric", "verdict", "before", "after", "change", "low", "high",
                  "periods_after", "contacts_after"])  # fmt: skip
    if fmt is Format.table:
        for row in rows:
            typer.echo(printable(row["sentence"]))


@sop_app.command("retire")
def sop_retire(
    change_id: Annotated[str, typer.Argument(help="SOP-…")],
    author: Annotated[str, typer.Option(help="Who retires it.")] = "",
    home: HomeOption = None,
) -> None:
    """Mark a change retired (kept, with its audit trail)."""
    from rca.store import Store
    from rca.store.sop import retire_change

    with Store(settings_for(home).store_path).write() as con:
        change = retire_change(con, change_id, now=datetime.now(UTC), actor=author or None)
    stderr(f"{change.change_id} retired")


@app.command()
def escalation(
    contact_id: Annotated[str, typer.Argument(help="The escalated contact's id.")],
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.json,
    home: HomeOption = None,
) -> None:
    """An escalation's deep dive: the case, its theme and how typical, the customer's chain,
    what over-explains the theme's escalations, similar earlier escalations and their
    resolutions, and the SOP changes in force (JSON by default; table lists the similar ones)."""
    from rca.queries.escalation import deep_dive

    report = deep_dive(settings_for(home), contact_id)
    emit({"command": "escalation", **report}, report["similar_escalations"], fmt,
         title=f"escalations like {contact_id}",
         columns=["contact_id", "created_at", "similarity", "resolution", "text"])  # fmt: skip
    if fmt is Format.table:
        why = report["why_escalations"]
        stderr(why["sentence"] if why else "too few escalations in this theme to say why")


@sop_app.command("review")
def sop_review(
    period: PeriodOption = "latest",
    weeks: Annotated[
        int | None, typer.Option(min=1, help="No change in this many weeks (default setting).")
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="How many themes to list.")] = 20,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """The SOP review queue: themes with high repeat or escalation rates and no SOP change in
    the last weeks, ranked by the agent hours their repeats cost."""
    from rca.queries.repeat_drivers import choose_period, load_repeat_analysis
    from rca.queries.sop_effects import load_changes, review_queue

    settings = settings_for(home)
    analysis = load_repeat_analysis(settings)
    changes, edges = load_changes(settings)
    chosen = choose_period(analysis, period, settings)
    report = review_queue(analysis, changes, edges, chosen, settings,
                          weeks=weeks or settings.sop_review_weeks, top=top)  # fmt: skip
    emit({"command": "sop review", **report}, report["queue"], fmt,
         title=f"SOP review queue, {report['weeks']} weeks up to {report['period']}",
         columns=["rank", "theme_id", "label", "contacts", "repeat_rate", "escalation_rate",
                  "repeat_hours", "why"])  # fmt: skip
    if fmt is Format.table and report["note"]:
        stderr(report["note"])


@app.command()
def escalations(
    period: PeriodOption = "latest",
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """The period's escalations grouped by theme, most costly (agent hours) first."""
    from rca.queries.escalation import period_escalations
    from rca.queries.repeat_drivers import choose_period, load_repeat_analysis

    settings = settings_for(home)
    analysis = load_repeat_analysis(settings)
    report = period_escalations(analysis, choose_period(analysis, period, settings))
    rows = [{k: v for k, v in g.items() if k != "latest"} for g in report["themes"]]
    counted_as = (
        f"{report['contacts']} contacts, no escalation flag"
        if report["escalations"] is None
        else f"{report['escalations']} of {report['contacts']} contacts"
    )
    emit({"command": "escalations", **report}, rows, fmt,
         title=f"escalations by theme, {report['period']} ({counted_as})",
         columns=["theme_id", "label", "escalations", "escalation_rate", "escalation_rate_low",
                  "escalation_rate_high", "handle_hours", "repeat_escalations",
                  "with_resolution"])  # fmt: skip
    if fmt is Format.table and report["note"]:
        stderr(report["note"])
