"""`rca taxonomy`: correct the themes (rename, merge, split, move, hide, create, keep, undo), file
contacts under another theme by hand (reassign), and see the log.

Every edit is stored with who (`--by`), when and why (`--why`), applies to every report at
once, and survives refits (docs/taxonomy.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rca.cli.app import HomeOption, app, settings_for, stderr
from rca.cli.output import Format, emit
from rca.text.counted import counted

taxonomy_app = typer.Typer(
    help="Correct the themes: rename, merge, split, move, hide, create, reassign contacts."
)
app.add_typer(taxonomy_app, name="taxonomy")

By = Annotated[str, typer.Option("--by", help="Who makes the edit.")]
Why = Annotated[str, typer.Option("--why", help="Why (kept in the history).")]
Fmt = Annotated[Format, typer.Option("--format", "-f")]
HISTORY_COLUMNS = ["edit_id", "at", "action", "theme_id", "details", "by", "why"]


def _flags(theme: dict[str, Any]) -> str:
    from rca.cluster.theme_sheet import theme_flags

    return theme_flags(theme)


def _edit_output(command: str, result: dict[str, Any], fmt: Format) -> None:
    from rca.cluster.theme_sheet import LISTING_COLUMNS

    themes = result.get("themes") or [t for t in [result.get("theme")] if t]
    rows = [{**t, "flags": _flags(t), "contacts": result.get("contacts", t.get("size"))}
            for t in themes]  # fmt: skip
    emit({"command": f"taxonomy {command}", **result}, rows, fmt, title="theme",
         columns=LISTING_COLUMNS)  # fmt: skip
    if fmt is Format.table:
        edit = result.get("edit")
        stderr(
            f"recorded {edit['edit_id']} ({edit['action']} {edit['theme_id']})"
            if edit
            else "nothing to change: the taxonomy already says so"
        )


def _apply(action: str, theme_id: str, params: dict[str, Any], by: str, why: str,
           home: Any) -> dict[str, Any]:  # fmt: skip
    from rca.jobs.curate import apply_edit

    return apply_edit(
        settings_for(home), action, theme_id, params=params, actor=by or None, reason=why or None
    )


@taxonomy_app.command("list")
def taxonomy_list(fmt: Fmt = Format.table, home: HomeOption = None) -> None:
    """The curated themes (pinned names, merges as one, hidden ones marked) and open proposals.

    ``--format csv`` is the sheet a person reviews and gives back to ``rca taxonomy apply``
    (the dashboard's download: an empty ``merge_into`` column, formula-like names made
    spreadsheet-safe)."""
    from rca.cluster.theme_sheet import LISTING_COLUMNS, SHEET_COLUMNS, sheet_rows
    from rca.jobs.curate import taxonomy_listing

    listing = taxonomy_listing(settings_for(home))
    rows = sheet_rows(listing["themes"])
    columns = SHEET_COLUMNS if fmt is Format.csv else LISTING_COLUMNS
    emit({"command": "taxonomy list", **listing}, rows, fmt,
         title=f"taxonomy of {listing['model_version']}", columns=columns)  # fmt: skip
    if fmt is Format.table:
        for preview in listing["previews"]:
            if not preview["accepted"]:
                parts = " | ".join(c["label"] for c in preview["children"])
                stderr(f"split preview {preview['preview_id']} of {preview['theme_id']}: {parts}")
        for proposal in listing["proposals"]:
            stderr(f"proposal: {proposal['message']}")


@taxonomy_app.command("rename")
def taxonomy_rename(
    theme_id: Annotated[str, typer.Argument(help="Theme id, e.g. T0004.")],
    label: Annotated[str, typer.Argument(help="The new name (pinned: a refit keeps it).")],
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Give a theme a name a person chose; it survives refits."""
    _edit_output("rename", _apply("rename", theme_id, {"label": label}, by, why, home), fmt)


@taxonomy_app.command("merge")
def taxonomy_merge(
    target: Annotated[str, typer.Argument(help="The theme that stays.")],
    sources: Annotated[list[str], typer.Argument(help="Themes merged into it.")],
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Merge themes into TARGET: counted as one in every report."""
    result = _apply("merge", target, {"sources": list(sources)}, by, why, home)
    _edit_output("merge", result, fmt)


@taxonomy_app.command("reassign")
def taxonomy_reassign(
    contact_ids: Annotated[
        list[str] | None, typer.Argument(help="Contact ids to file under --to.")
    ] = None,
    to: Annotated[str, typer.Option("--to", help="The theme they belong to, e.g. T0004.")] = "",
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="A cases CSV or .xlsx (`rca examples --format csv`) whose theme_id a person "
            "corrected: each row's contact filed under its theme.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="With --file or --teach: say what would move; write nothing."
        ),
    ] = False,
    teach: Annotated[
        bool,
        typer.Option(
            "--teach",
            help="Also file every contact, now and later, nearer to these than to its own "
            "theme (and at least --threshold similar to their mean).",
        ),
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(help="With --teach: cosine similarity to the filed contacts' mean needed."),
    ] = None,
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """File contacts under another theme by hand; they stay there through refits (until undone).

    Either ``ID... --to THEME``, or ``--file cases.csv``: a theme's cases (``rca examples
    --format csv``, or a theme page's download) with ``theme_id`` changed where a case belongs
    elsewhere. Only rows whose contact is not in its row's theme already move (one edit per
    theme), all or none, so the download applied as it is changes nothing.
    """
    from rca.cluster.taxonomy import TaxonomyError

    if file is not None and (contact_ids or to):
        raise TaxonomyError("give contact ids with --to, or --file; not both")
    if threshold is not None and not teach:
        raise TaxonomyError("--threshold is for --teach")
    if file is not None:
        _file_cases(file, dry_run, by, why, home, fmt, teach, threshold)
        return
    if not contact_ids or not to:
        raise TaxonomyError("give contact ids and --to THEME (or --file cases.csv)")
    if dry_run:
        if not teach:
            raise TaxonomyError("--dry-run is for --file or --teach")
        _teach_preview(to, list(contact_ids), threshold, home, fmt)
        return
    params: dict[str, Any] = {"contacts": list(contact_ids)}
    if teach:
        params |= {"teach": True, **({"threshold": threshold} if threshold is not None else {})}
    result = _apply("reassign", to, params, by, why, home)
    _edit_output("reassign", result, fmt)
    if fmt is Format.table and result.get("edit"):
        moved = result.get("moved_from") or {}
        origin = ", ".join(f"{k or 'unassigned'}: {v}" for k, v in moved.items())
        stderr(f"moved {counted(result.get('moved', 0), 'contact')}" + (f" (from {origin})"
               if origin else "; they were there already and now stay"))  # fmt: skip
        if "learnt" in result:
            rule = result["edit"]["params"]["threshold"]
            stderr(f"taught: {counted(result['learnt'], 'more contact')} like them joined "
                   f"(nearer to them than to their own theme, at least {rule:.2f} similar); "
                   "later contacts like them will too")  # fmt: skip


def _teach_preview(
    to: str, contact_ids: list[str], threshold: float | None, home: Any, fmt: Format
) -> None:
    from rca.jobs.curate import preview_teach

    result = preview_teach(settings_for(home), to, contact_ids, threshold)
    rows = [{"theme_id": k, "contacts": v} for k, v in result["learnt_from"].items()]
    emit({"command": "taxonomy reassign", "dry_run": True, **result}, rows, fmt,
         title=f"contacts like them that would follow into {to}")  # fmt: skip
    if fmt is Format.table:
        shown = ", ".join(result["examples"])
        stderr(f"{counted(result['moved'], 'named contact')} would move and "
               f"{counted(result['learnt'], 'more contact')} like them would follow "
               f"(at least {result['threshold']:.2f} similar){': ' + shown if shown else ''}"
               "; nothing written")  # fmt: skip


def _file_cases(
    path: Path,
    dry_run: bool,
    by: str,
    why: str,
    home: Any,
    fmt: Format,
    teach: bool = False,
    threshold: float | None = None,
) -> None:
    from rca.jobs.apply_sheet import read_sheet_file
    from rca.jobs.file_cases import file_cases

    result = file_cases(
        settings_for(home), read_sheet_file(path), dry_run=dry_run, actor=by or None,
        reason=why or f"cases filed from {path.name}", teach=teach, threshold=threshold,
    )  # fmt: skip
    rows = [
        {**e, "contacts": _shown(e["contacts"]),
         "moved_from": ", ".join(f"{k or 'unassigned'}: {v}" for k, v in e["moved_from"].items())}
        for e in result["edits"]
    ]  # fmt: skip
    learnt = ["learnt"] if teach and not dry_run else []
    emit({"command": "taxonomy reassign", **result}, rows, fmt, title="cases filed",
         columns=["edit_id", "theme_id", "label", "contacts", "moved_from", *learnt])  # fmt: skip
    if fmt is Format.table:
        verb = "would move" if dry_run else "moved"
        note = " (dry run: nothing written)" if dry_run else ""
        stderr(f"{counted(result['moved'], 'contact')} {verb} in "
               f"{counted(len(result['edits']), 'edit')} from {counted(result['rows'], 'row')} "
               f"({result['unchanged']} unchanged){note}")  # fmt: skip
        if teach and dry_run:
            stderr("contacts like them are found when the cases are filed")


@taxonomy_app.command("split")
def taxonomy_split(
    theme_id: Annotated[str, typer.Argument(help="Theme to split.")],
    parts: Annotated[int, typer.Option(help="Into how many parts (2-10).")] = 2,
    proposed: Annotated[
        bool,
        typer.Option(
            "--proposed",
            help="The cut the last refit proposed (the themes it carved out of this one and "
            "held, and the rest) instead of re-clustering; --parts is ignored.",
        ),
    ] = False,
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Preview a split: re-cluster the theme's contacts; nothing changes until `accept`."""
    from rca.jobs.curate import preview_split

    preview = preview_split(
        settings_for(home), theme_id, parts=parts, actor=by or None, reason=why or None,
        proposed=proposed,
    )  # fmt: skip
    emit({"command": "taxonomy split", **preview}, preview["children"], fmt,
         title=f"split preview {preview['preview_id']} of {theme_id}",
         columns=["label", "size", "keywords", "examples"])  # fmt: skip
    if fmt is Format.table:
        stderr(f"nothing changed yet: `{preview['accept']}` applies it")


@taxonomy_app.command("accept")
def taxonomy_accept(
    preview_id: Annotated[str, typer.Argument(help="The split preview's id (E…).")],
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Accept a split preview: its parts become themes with new stable ids."""
    from rca.jobs.curate import accept_split

    result = accept_split(settings_for(home), preview_id, actor=by or None, reason=why or None)
    _edit_output("accept", result, fmt)


@taxonomy_app.command("move")
def taxonomy_move(
    theme_id: Annotated[str, typer.Argument(help="Theme to move.")],
    parent_group: Annotated[str, typer.Argument(help="The parent group it belongs to.")] = "",
    no_group: Annotated[
        bool,
        typer.Option(
            "--no-group", help="Take it out of its group: a group of its own at the parent level."
        ),
    ] = False,
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Move a theme to another parent group (or out of its group with --no-group)."""
    from rca.cluster.taxonomy import TaxonomyError

    if not parent_group.strip() and not no_group:
        raise TaxonomyError("give a GROUP, or --no-group to take the theme out of its group")
    params: dict[str, Any] = {"parent_group": parent_group}
    if no_group:
        params["ungroup"] = True
    result = _apply("move", theme_id, params, by, why, home)
    _edit_output("move", result, fmt)


@taxonomy_app.command("hide")
def taxonomy_hide(
    theme_id: Annotated[str, typer.Argument(help="Theme to hide (small talk, spam).")],
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Leave a theme out of top lists, spikes and the e-mail (still counted)."""
    _edit_output("hide", _apply("hide", theme_id, {}, by, why, home), fmt)


@taxonomy_app.command("unhide")
def taxonomy_unhide(
    theme_id: Annotated[str, typer.Argument(help="Hidden theme to show again.")],
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Show a hidden theme in reports again."""
    _edit_output("unhide", _apply("unhide", theme_id, {}, by, why, home), fmt)


@taxonomy_app.command("keep")
def taxonomy_keep(
    theme_id: Annotated[str, typer.Argument(help="Theme to keep as it is.")],
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Keep a theme as it is: decline the refit's proposals about it (later refits hold what
    they carve out of it without proposing it again)."""
    _edit_output("keep", _apply("keep", theme_id, {}, by, why, home), fmt)


@taxonomy_app.command("undo")
def taxonomy_undo(
    edit_id: Annotated[str, typer.Argument(help="The edit to take back (E0007; see history).")],
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Take back an edit (a merge, an accepted split, a created theme...); kept in the log."""
    _edit_output("undo", _apply("undo", "", {"edit_id": edit_id}, by, why, home), fmt)


@taxonomy_app.command("create")
def taxonomy_create(
    label: Annotated[str, typer.Argument(help="The new theme's name.")],
    description: Annotated[
        str, typer.Option(help="What it is about (embedded with the name when no examples).")
    ] = "",
    examples: Annotated[
        list[str] | None, typer.Option("--example", help="A contact id that belongs (repeat).")
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="Cosine similarity a contact needs to join it.")
    ] = 0.5,
    parent_group: Annotated[str, typer.Option(help="Its parent group.")] = "",
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Create a theme from example contacts or from a name and description (a reason code)."""
    from rca.jobs.curate import create_theme

    result = create_theme(
        settings_for(home), label, description=description or None, examples=examples or [],
        threshold=threshold, parent_group=parent_group or None, actor=by or None,
        reason=why or None,
    )  # fmt: skip
    _edit_output("create", result, fmt)


@taxonomy_app.command("import")
def taxonomy_import(
    path: Annotated[
        Path | None, typer.Argument(help="CSV, .tsv or .xlsx of reason codes, one per row.")
    ] = None,
    from_attribute: Annotated[
        str,
        typer.Option(
            help="Instead of a file: a code per value of this attribute of the "
            "contacts (a CRM disposition kept at ingest), made from its contacts."
        ),
    ] = "",
    min_contacts: Annotated[
        int, typer.Option(min=1, help="--from-attribute: values with fewer contacts are left out.")
    ] = 5,
    label_column: Annotated[str, typer.Option(help="The column with each code's name.")] = "label",
    description_column: Annotated[
        str, typer.Option(help="The column with what it covers (optional column).")
    ] = "description",
    threshold: Annotated[
        float,
        typer.Option(help="Cosine similarity a contact needs to join a code without its own."),
    ] = 0.5,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what each code would take; write nothing.")
    ] = False,
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Create a theme per reason code of a file (a team's existing codes), all or none.

    Columns: the name (``--label-column``), optionally a description, ``threshold`` and
    ``parent_group``. Or ``--from-attribute NAME``: a theme per value of an attribute the
    contacts already carry, each the mean of its contacts (far nearer to them than a name).
    Codes a created theme already has are left alone, so a second import of the same codes
    changes nothing. ``--dry-run`` lists what each code would take.
    """
    from rca.cluster.reason_codes import LADDER
    from rca.errors import InvalidInputError
    from rca.jobs.import_codes import codes_from_attribute, import_reason_codes, read_codes_file

    settings = settings_for(home)
    if (path is None) == (not from_attribute):
        raise InvalidInputError("give a codes file or --from-attribute NAME (one of the two)")
    too_few: dict[str, int] = {}
    if path is not None:
        codes = read_codes_file(
            path, label_column=label_column, description_column=description_column,
            threshold=threshold,
        )  # fmt: skip
        source = path.name
    else:
        coded = codes_from_attribute(
            settings, from_attribute, threshold=threshold, min_contacts=min_contacts
        )
        codes, too_few, source = coded.codes, coded.too_few, f"attribute {from_attribute}"
    result = import_reason_codes(
        settings, codes, dry_run=dry_run, actor=by or None,
        reason=why or f"reason codes from {source}", too_few=too_few,
    )  # fmt: skip
    ladder = "at " + "/".join(f"{t:g}".removeprefix("0") for t in LADDER)  # "at .3/.4/..."
    rows = [
        {**r, "from": ", ".join(f"{f['theme_id'] or '-'} {f['label']} ({f['contacts']})"
                                for f in r["from_themes"]),
         ladder: " / ".join(str(a["contacts"]) for a in r["at_thresholds"]),
         "coded (taken)": f"{r['coded']} ({r['coded_taken']})" if r["coded_taken"] is not None
         else (r["coded"] or "")}
        for r in result["codes"]
    ]  # fmt: skip
    coded_column = ["coded (taken)"] if from_attribute else []
    columns = ["label", "status", "theme_id", "threshold", "contacts", *coded_column, ladder,
               "from", "same_name_as"]  # fmt: skip
    emit({"command": "taxonomy import", **result}, rows, fmt, title="reason codes",
         columns=columns)  # fmt: skip
    if fmt is Format.table:
        verb = "would take" if dry_run else "took"
        stderr(
            f"{result['created']} themes created, {result['already']} codes already themes; "
            f"the codes {verb} {result['contacts_taken']} of {result['contacts']} contacts"
            + (" (dry run: nothing written)" if dry_run else "")
        )
        for note in result["notes"]:
            stderr(f"note: {note}")
        if too_few:
            stderr(
                f"values with fewer than {min_contacts} contacts, left out: "
                + "; ".join(f"{v} ({n})" for v, n in too_few.items())
            )
        left = result["themes_not_covered"]
        if left:
            stderr(
                "themes no code covers (most of their contacts stay): "
                + "; ".join(
                    f"{t['theme_id']} {t['label']} ({t['stay']} of {t['contacts']})" for t in left
                )  # fmt: skip
            )


@taxonomy_app.command("apply")
def taxonomy_apply(
    path: Annotated[
        Path,
        typer.Argument(help="CSV, .tsv or .xlsx: `rca taxonomy list --format csv`, reviewed."),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the edits the sheet asks for; write nothing.")
    ] = False,
    by: By = "",
    why: Why = "",
    fmt: Fmt = Format.table,
    home: HomeOption = None,
) -> None:
    """Apply a reviewed theme sheet: renames, parent groups, hidden themes, merges; all or none.

    Start from ``rca taxonomy list --format csv``: change ``label`` or ``parent_group``, mark
    ``hidden`` (yes/no; the listing's ``flags`` is read when there is no such column) and add a
    ``merge_into`` column naming the theme that takes a row's theme. A blank cell leaves that
    field alone, and an unchanged row makes no edit, so applying the listing as exported
    changes nothing. Each change is an ordinary edit, with ``--by`` and ``--why``.
    """
    from rca.jobs.apply_sheet import apply_sheet, read_sheet_file

    settings = settings_for(home)
    result = apply_sheet(
        settings, read_sheet_file(path), dry_run=dry_run, actor=by or None,
        reason=why or f"theme sheet {path.name}",
    )  # fmt: skip
    rows = [{**r, "from": _shown(r["from"]), "to": _shown(r["to"])} for r in result["edits"]]
    columns = ["line", "edit_id", "action", "theme_id", "label", "field", "from", "to"]
    emit({"command": "taxonomy apply", **result}, rows, fmt, title="theme sheet", columns=columns)
    if fmt is Format.table:
        verb = "would be made" if dry_run else "made"
        note = " (dry run: nothing written)" if dry_run else ""
        stderr(
            f"{counted(len(result['edits']), 'edit')} {verb} from "
            f"{counted(result['rows'], 'row')} "
            f"({result['unchanged']} unchanged){note}"
        )


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


@taxonomy_app.command("history")
def taxonomy_history(fmt: Fmt = Format.table, home: HomeOption = None) -> None:
    """Every edit, oldest first: who, when, what and why."""
    from rca.jobs.curate import taxonomy_history as read_history

    settings = settings_for(home)
    edits = read_history(settings)
    rows = [{**e, "details": _details(e)} for e in edits]
    if fmt == Format.table:  # people read the configured zone; CSV and JSON keep ISO 8601
        from rca.text.moments import moment_text

        rows = [{**r, "at": moment_text(r["at"], settings.tz)} for r in rows]
    emit({"command": "taxonomy history", "edits": edits}, rows, fmt, title="taxonomy history",
         columns=HISTORY_COLUMNS)  # fmt: skip


def _details(edit: dict[str, Any]) -> str:
    p = edit.get("params") or {}
    if edit["action"] in ("rename", "create"):
        return str(p.get("label", ""))
    if edit["action"] == "merge":
        return "from " + ", ".join(p.get("sources", []))
    if edit["action"] == "move":
        return "out of its group" if p.get("ungroup") else str(p.get("parent_group", ""))
    if edit["action"] == "split":
        return " | ".join(c.get("label", "") for c in p.get("children", []))
    if edit["action"] == "accept":
        return f"{p.get('preview_id')} → {', '.join(edit.get('new_ids') or [])}"
    if edit["action"] == "reassign":
        contacts = [str(c) for c in p.get("contacts", [])]
        more = f" and {len(contacts) - 3} more" if len(contacts) > 3 else ""
        like = f"; and contacts like them (at least {p['threshold']:.2f})" if p.get("teach") else ""
        return ", ".join(contacts[:3]) + more + like
    if edit["action"] == "undo":
        return f"takes back {p.get('edit_id')} ({p.get('undone_action')})"
    return ""
