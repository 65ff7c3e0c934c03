"""The dashboard's Taxonomy page: rename, merge, split (preview, then accept), move, hide, file
contacts under another theme by hand (a theme page's cases link here), create themes (one, or a
team's reason codes pasted as CSV), and keep one as it is (declining the refit's proposals about
it). Every form posts with the session's CSRF token, needs a writer session, and redirects back
(post/redirect/get) with what it did (a reason-code preview is shown in place: it wrote
nothing). The themes download as the sheet people review, and a reviewed sheet pasted back is
previewed, then applied as edits. The work is `rca.jobs.curate`'s, `rca.jobs.import_codes`' and
`rca.jobs.apply_sheet`'s, the same as the CLI's and the API's."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from rca.api.deps import SnapshotDep, StateDep
from rca.api.state import ServiceState
from rca.api.web.routes import SessionDep, _common, _render
from rca.api.web.session import Session, same_token
from rca.cluster.taxonomy import TaxonomyError
from rca.errors import InvalidInputError, NotFoundError, RcaError
from rca.jobs import curate
from rca.text.audience import RedactionPolicy
from rca.text.counted import counted
from rca.text.excerpt import split_excerpt

router = APIRouter(prefix="/ui/taxonomy", include_in_schema=False)
Text = Annotated[str, Form(max_length=500)]
Name = Annotated[str, Form(max_length=120)]
Csrf = Annotated[str, Form(max_length=128)]
Upload = Annotated[UploadFile | None, File()]
Source = Annotated[str, Form(max_length=240)]  # `_file_mark`
#: Example cases quoted per part of a split preview, and the characters of each: enough to tell
#: the parts apart without opening each contact id.
PREVIEW_QUOTES = 2
PREVIEW_QUOTE_CHARS = 200
MAX_UPLOAD_BYTES = 5_000_000  # a workbook of a few thousand rows; bigger tables go by the CLI


async def _upload_text(
    upload: UploadFile | None,
    pasted: str,
    limit: int,
    command: str,
    mark: str = "",
    needs: tuple[str, ...] = (),
) -> tuple[str, str | None, str]:
    """The table a form sends and what is wrong with it: a chosen file (CSV, TSV or an Excel
    workbook, `table_text`) in place of the box's text, else the text. The file's rows come
    back as CSV text so the page shows them in the box after a preview, and "Apply" then sends
    the same rows (a browser never keeps a chosen file across pages). A file the box could not
    take (``limit`` characters, the form's own cap) is refused with the CLI command that
    takes it. The third value is the form's hidden ``source`` for the next page (`_file_mark`):
    the chosen file's, else the one the form carried. A workbook's sheet is the first with the
    columns in ``needs``."""
    from rca.jobs.import_codes import table_text

    if upload is None or not upload.filename:
        return pasted, None, mark
    name = upload.filename
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        return pasted, f"{name} is empty", mark
    if len(data) > MAX_UPLOAD_BYTES:
        return (
            pasted,
            (
                f"{name} is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB; use `{command}` "
                "for a table this big"
            ),
            mark,
        )
    try:
        text = await run_in_threadpool(table_text, data, name, needs)
    except RcaError as exc:
        return pasted, str(exc), mark
    if len(text) > limit:
        return (
            pasted,
            (
                f"{name} holds {len(text):,} characters of rows, more than this form takes "
                f"({limit:,}); use `{command}`"
            ),
            mark,
        )
    return text, None, _file_mark(name, text)


def _rows_digest(text: str) -> str:
    # a textarea posts its lines with CRLF: the digest is of the rows, not of the line ends
    return hashlib.sha256(text.replace("\r\n", "\n").strip().encode()).hexdigest()[:16]


def _file_mark(name: str, text: str) -> str:
    """The hidden ``source`` a chosen file leaves in its form after a preview: the file's name
    and a digest of its rows. The browser drops the chosen file, so "Apply" sends the rows from
    the box; the mark lets the history still say which file they came from, and notice when
    someone changed them in the box since."""
    return f"{_rows_digest(text)}:{Path(name.replace(chr(92), '/')).name[:200]}"


def _source(mark: str, text: str) -> str:
    """How a table reached the page, for the history's "why" when none is given."""
    digest, _, name = mark.partition(":")
    if not name:
        return "pasted"
    return f"from {name}" if digest == _rows_digest(text) else f"from {name}, edited on the page"


def _refuse(problem: str | None) -> None:
    """An upload `_upload_text` could not take, refused inside the edit (so the page says
    why with the form as it was)."""
    if problem:
        raise InvalidInputError(problem)


def _attributes(snapshot: Any) -> list[str]:
    """The contacts' attributes (dimensions) a team's codes can be made from."""
    from rca.store.analysis import dimension_columns

    return sorted(c.removeprefix("dim_") for c in dimension_columns(snapshot.analysis.marked))


def _page(
    request: Request, ctx: dict[str, Any], listing: dict[str, Any], status: int = 200, **extra: Any
) -> HTMLResponse:
    visible = list(listing["themes"])
    groups = sorted({t["parent_group"] for t in visible if t.get("parent_group")})
    ctx |= {"listing": listing, "themes": visible, "groups": groups, **extra}
    return _render(request, "taxonomy.html", ctx, status)


@router.get("", response_class=HTMLResponse)
async def taxonomy_page(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    done: Annotated[str, Query(max_length=200)] = "",
    preview: Annotated[str, Query(max_length=40)] = "",
    reassign: Annotated[str, Query(max_length=200)] = "",
    from_: Annotated[str, Query(alias="from", max_length=40)] = "",
) -> HTMLResponse:
    listing = await run_in_threadpool(curate.taxonomy_listing, state.settings)
    history = await run_in_threadpool(curate.taxonomy_history, state.settings)
    shown = next((p for p in listing["previews"] if p["preview_id"] == preview), None)
    if shown is not None:
        quotes = await run_in_threadpool(_quotes, snapshot, state.settings, shown["children"])
        shown = shown | {"children": [c | {"quotes": q} for c, q in
                                      zip(shown["children"], quotes, strict=True)]}  # fmt: skip
    return _page(
        request,
        _common(snapshot, session, "latest"),
        listing,
        done=done,
        preview=shown,
        history=history[::-1][:50],
        attributes=_attributes(snapshot),
        reassign_contacts=reassign,  # "file under another theme" on a theme page's case
        reassign_from=from_,
    )


def _quotes(snapshot: Any, settings: Any, children: list[dict]) -> list[list[dict]]:
    """The first PREVIEW_QUOTES examples of each part of a split preview, as text: a reviewer
    deciding whether to accept a split read only contact ids. Redacted for people, as every
    case a person reads is (``rca.text.audience``), and cut to a glance."""
    marked = snapshot.analysis.marked
    wanted = {str(e) for c in children for e in (c.get("examples") or [])}
    # a few rows, not a dict of every contact on each view of the page
    shown = marked.loc[marked["contact_id"].astype(str).isin(wanted)]
    text_of = dict(zip(shown["contact_id"].astype(str), shown["text"], strict=True))
    policy = RedactionPolicy.from_settings(settings, "people")
    picked = [[str(e) for e in (c.get("examples") or []) if str(e) in text_of][:PREVIEW_QUOTES]
              for c in children]  # fmt: skip
    flat = [cid for ids in picked for cid in ids]
    texts = iter(policy.redact([" ".join(str(text_of[cid]).split()) for cid in flat]))
    out = []
    for ids in picked:
        rows = []
        for cid in ids:
            head, rest = split_excerpt(next(texts), PREVIEW_QUOTE_CHARS)
            rows.append({"contact_id": cid, "text": head + ("…" if rest else "")})
        out.append(rows)
    return out


async def _act(
    request: Request,
    session: Session,
    snapshot: Any,
    state: ServiceState,
    csrf: str,
    work: Any,
    kept: dict[str, Any] | None = None,
) -> Response:
    """Check the form, run the edit, refresh the snapshot, redirect back with what happened.
    ``kept``: what the form said, shown again when the edit is refused (a long list of ids
    should not have to be typed twice)."""

    async def shown(status: int = 200, **extra: Any) -> HTMLResponse:  # the page, re-read
        listing = await run_in_threadpool(curate.taxonomy_listing, state.settings)
        history = await run_in_threadpool(curate.taxonomy_history, state.settings)
        return _page(
            request,
            _common(snapshot, session, "latest"),
            listing,
            status,
            history=history[::-1][:50],
            preview=None,
            attributes=_attributes(snapshot),
            **extra,
        )

    async def fail(message: str, status: int) -> HTMLResponse:
        return await shown(status, error=message, done="", **(kept or {}))

    if not same_token(session.csrf, csrf):
        return await fail("The form expired; please try again.", 400)
    if not session.can("writer"):
        return await fail(
            f"Editing the taxonomy needs a writer key; this session's role is {session.role}.",
            403,
        )
    try:
        result = await run_in_threadpool(work, session.name)
    except NotFoundError as exc:
        return await fail(str(exc), 404)
    except RcaError as exc:
        return await fail(str(exc), 400)
    if "shown" in result:  # a dry run: shown on the page, nothing to redirect to
        return await shown(done=result["message"], **result["shown"])
    if result.get("changed", True):
        await run_in_threadpool(state.refresh)
    query = f"?done={quote(result.get('message', 'done'))}"
    if result.get("preview_id"):
        query += f"&preview={quote(result['preview_id'])}"
    return RedirectResponse(f"/ui/taxonomy{query}", status_code=303)


def _said(result: dict[str, Any], what: str) -> dict[str, Any]:
    if not result.get("changed"):
        return result | {"message": "Nothing to change: the taxonomy already says so."}
    return result | {"message": f"{what} ({result['edit']['edit_id']})."}


@router.post("/rename")
async def rename(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    theme_id: Name = "",
    label: Name = "",
    why: Text = "",
    csrf: Csrf = "",
) -> Response:
    def work(by: str) -> dict[str, Any]:
        result = curate.apply_edit(
            state.settings, "rename", theme_id, params={"label": label}, actor=by, reason=why
        )
        return _said(result, f"Renamed {theme_id} to “{label.strip()}”")

    return await _act(request, session, snapshot, state, csrf, work)


@router.post("/merge")
async def merge(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    target: Name = "",
    source: Name = "",
    why: Text = "",
    csrf: Csrf = "",
) -> Response:
    def work(by: str) -> dict[str, Any]:
        result = curate.apply_edit(
            state.settings, "merge", target, params={"sources": [source]}, actor=by, reason=why
        )
        return _said(result, f"Merged {source} into {target}")

    return await _act(request, session, snapshot, state, csrf, work)


@router.post("/reassign")
async def reassign(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    theme_id: Name = "",
    contacts: Annotated[str, Form(max_length=500000)] = "",
    why: Text = "",
    dry_run: Annotated[str, Form(max_length=8)] = "",
    teach: Annotated[str, Form(max_length=8)] = "",
    upload: Upload = None,
    source: Source = "",
    csrf: Csrf = "",
) -> Response:
    contacts, problem, source = await _upload_text(
        upload,
        contacts,
        500_000,
        "rca taxonomy reassign --file cases.xlsx",
        source,
        ("contact_id", "theme_id"),
    )

    def work(by: str) -> dict[str, Any]:
        import pandas as pd

        from rca.jobs.apply_sheet import parse_sheet
        from rca.jobs.file_cases import file_cases

        _refuse(problem)
        table = _is_cases_table(contacts)  # a theme's cases CSV with corrected theme ids
        if dry_run:  # what would move, ids and a theme read as a two-column table
            ids = [i for i in contacts.replace(",", " ").split() if i]
            if not table and not theme_id:
                raise TaxonomyError("choose the theme the contacts belong to")
            frame = (
                parse_sheet(contacts)
                if table
                else pd.DataFrame({"contact_id": ids, "theme_id": theme_id})
            )
            result = file_cases(state.settings, frame, dry_run=True)
            said = (
                f"Preview: {counted(result['moved'], 'contact')} would move "
                f"({result['unchanged']} of {counted(result['rows'], 'row')} already there); "
                "nothing written."
            )
            if teach and table:
                said += " Contacts like them are found when you file them."
            elif teach:
                lesson = curate.preview_teach(state.settings, theme_id, ids)
                origin = ", ".join(f"{k}: {v}" for k, v in lesson["learnt_from"].items())
                said += (
                    f" {counted(lesson['learnt'], 'more contact')} like them would follow"
                    + (f" (from {origin})" if origin else "")
                    + (f": {', '.join(lesson['examples'])}" if lesson["examples"] else "")
                    + "."
                )
            return {"message": said, "shown": {"cases_preview": result, **kept}}
        if table:
            reason = why or f"cases {_source(source, contacts)} on the taxonomy page"
            result = file_cases(state.settings, parse_sheet(contacts), actor=by, reason=reason,
                                teach=bool(teach))  # fmt: skip
            ids = ", ".join(e["edit_id"] for e in result["edits"])
            like = sum(e.get("learnt") or 0 for e in result["edits"])
            message = (
                f"Filed {counted(result['moved'], 'contact')} in "
                f"{counted(len(result['edits']), 'edit')} ({ids})"
                + (f", and {counted(like, 'more contact')} like them." if teach else ".")
                if result["changed"]
                else f"Nothing to change: all {result['rows']} cases are in their themes."
            )
            return result | {"message": message}
        ids = [i for i in contacts.replace(",", " ").split() if i]
        if not theme_id:
            raise TaxonomyError("choose the theme the contacts belong to")
        params: dict[str, Any] = {"contacts": ids} | ({"teach": True} if teach else {})
        result = curate.apply_edit(
            state.settings, "reassign", theme_id, params=params, actor=by, reason=why
        )
        moved = result.get("moved", 0)
        said = f"Filed {moved} of {counted(len(ids), 'contact')} under {theme_id}"
        if "learnt" in result:
            said += f", and {counted(result['learnt'], 'more contact')} like them"
        return _said(result, said)

    kept = {"reassign_contacts": contacts, "reassign_theme": theme_id, "reassign_source": source,
            "reassign_teach": bool(teach)}  # fmt: skip
    return await _act(request, session, snapshot, state, csrf, work, kept)


def _is_cases_table(text: str) -> bool:
    """A pasted table (a header naming contact_id, then rows), not a list of ids."""
    head, _, rest = text.lstrip("\ufeff").strip().partition("\n")
    words = head.casefold().replace("-", "_").replace(" ", "_")
    return bool(rest.strip()) and "contact_id" in words and "theme_id" in words


@router.post("/split")
async def split(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    theme_id: Name = "",
    parts: Annotated[int, Form(ge=2, le=10)] = 2,
    proposed: Annotated[bool, Form()] = False,
    why: Text = "",
    csrf: Csrf = "",
) -> Response:
    def work(by: str) -> dict[str, Any]:
        encoder = state.encoder(snapshot.catalog)  # the process's loaded one names the parts
        preview = curate.preview_split(
            state.settings, theme_id, parts=parts, actor=by, reason=why, encoder=encoder,
            proposed=proposed,
        )  # fmt: skip
        return {
            "changed": False,
            "preview_id": preview["preview_id"],
            "message": f"Split preview of {theme_id}: nothing changes until you accept it.",
        }

    return await _act(request, session, snapshot, state, csrf, work)


@router.post("/accept")
async def accept(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    preview_id: Name = "",
    why: Text = "",
    csrf: Csrf = "",
) -> Response:
    def work(by: str) -> dict[str, Any]:
        result = curate.accept_split(state.settings, preview_id, actor=by, reason=why)
        ids = ", ".join(t["theme_id"] for t in result.get("themes", []))
        return _said(result, f"Split accepted: new themes {ids}")

    return await _act(request, session, snapshot, state, csrf, work)


@router.post("/undo")
async def undo(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    edit_id: Name = "",
    why: Text = "",
    csrf: Csrf = "",
) -> Response:
    def work(by: str) -> dict[str, Any]:
        result = curate.apply_edit(
            state.settings, "undo", "", params={"edit_id": edit_id}, actor=by, reason=why
        )
        return _said(result, f"Took back {edit_id}")

    return await _act(request, session, snapshot, state, csrf, work)


@router.post("/move")
async def move(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    theme_id: Name = "",
    parent_group: Name = "",
    ungroup: Annotated[str, Form(max_length=8)] = "",
    why: Text = "",
    csrf: Csrf = "",
) -> Response:
    def work(by: str) -> dict[str, Any]:
        if not parent_group.strip() and not ungroup:
            raise TaxonomyError("name a parent group, or tick “Out of its group”")
        params: dict[str, Any] = {"parent_group": parent_group}
        if ungroup:
            params["ungroup"] = True
        result = curate.apply_edit(
            state.settings, "move", theme_id, params=params, actor=by, reason=why
        )
        where = "out of its group" if ungroup else f"to “{parent_group.strip()}”"
        return _said(result, f"Moved {theme_id} {where}")

    return await _act(request, session, snapshot, state, csrf, work)


@router.post("/hide")
async def hide(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    theme_id: Name = "",
    action: Annotated[str, Form(pattern="^(hide|unhide)$")] = "hide",
    why: Text = "",
    csrf: Csrf = "",
) -> Response:
    def work(by: str) -> dict[str, Any]:
        result = curate.apply_edit(state.settings, action, theme_id, actor=by, reason=why)
        return _said(result, f"{'Hid' if action == 'hide' else 'Showed'} {theme_id}")

    return await _act(request, session, snapshot, state, csrf, work)


@router.post("/keep")
async def keep(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    theme_id: Name = "",
    why: Text = "",
    csrf: Csrf = "",
) -> Response:
    """Decline the refit's proposals about a theme: it stays as it is."""

    def work(by: str) -> dict[str, Any]:
        result = curate.apply_edit(state.settings, "keep", theme_id, actor=by, reason=why)
        return _said(result, f"Kept {theme_id} as it is: its proposals are declined")

    return await _act(request, session, snapshot, state, csrf, work)


@router.post("/create")
async def create(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    label: Name = "",
    description: Annotated[str, Form(max_length=1000)] = "",
    examples: Annotated[str, Form(max_length=4000)] = "",
    threshold: Annotated[float, Form(gt=0, le=1)] = 0.5,
    why: Text = "",
    csrf: Csrf = "",
) -> Response:
    def work(by: str) -> dict[str, Any]:
        ids = [i for i in examples.replace(",", " ").split() if i]
        encoder = None if ids else state.encoder(snapshot.catalog)
        result = curate.create_theme(
            state.settings,
            label,
            description=description or None,
            examples=ids,
            threshold=threshold,
            actor=by,
            reason=why,
            encoder=encoder,
        )
        return _said(
            result,
            f"Created {result['edit']['theme_id']} “{label.strip()}” with "
            f"{result.get('contacts', 0)} contacts",
        )

    return await _act(request, session, snapshot, state, csrf, work)


@router.post("/import")
async def import_codes(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    codes: Annotated[str, Form(max_length=200_000)] = "",
    from_attribute: Annotated[str, Form(max_length=200)] = "",
    min_contacts: Annotated[int, Form(ge=1, le=100_000)] = 5,
    threshold: Annotated[float, Form(gt=0, le=1)] = 0.5,
    dry_run: Annotated[str, Form(max_length=10)] = "",
    why: Text = "",
    upload: Upload = None,
    source: Source = "",
    csrf: Csrf = "",
) -> Response:
    """A team's reason codes pasted as CSV (a header line, then one code a line) or chosen as
    a file (CSV or an Excel workbook), or one per value of an attribute the contacts carry:
    "Preview" says what each would take without writing; "Import" creates them, all or
    none."""
    from rca.jobs.import_codes import codes_from_attribute, import_reason_codes, parse_codes

    codes, problem, source = await _upload_text(
        upload, codes, 200_000, "rca taxonomy import codes.xlsx", source, ("label",)
    )

    def work(by: str) -> dict[str, Any]:
        _refuse(problem)
        too_few: dict[str, int] = {}
        if from_attribute:
            coded = codes_from_attribute(
                state.settings, from_attribute, threshold=threshold, min_contacts=min_contacts
            )
            parsed, too_few = coded.codes, coded.too_few
        else:
            parsed = parse_codes(codes, threshold=threshold)
        origin = (f"reason codes from attribute {from_attribute}" if from_attribute
                  else f"reason codes {_source(source, codes)} on the taxonomy page")  # fmt: skip
        result = import_reason_codes(
            state.settings, parsed, dry_run=bool(dry_run), actor=by, too_few=too_few,
            reason=why or origin,
            encoder=None if from_attribute else state.encoder(snapshot.catalog),
        )  # fmt: skip
        taken = f"{result['contacts_taken']:,} of {result['contacts']:,} contacts"
        if dry_run:
            what = f"the codes from {from_attribute!r}" if from_attribute else "the codes"
            said = f"Preview: {what} would take {taken}; nothing written."
            shown = {
                "import_preview": result,
                "import_codes": codes,
                "import_attribute": from_attribute,
                "import_min_contacts": min_contacts,
                "import_source": source,
            }
            return result | {"message": said, "shown": shown}
        if not result["changed"]:
            return result | {"message": "Nothing to change: every code is already a theme."}
        said = (
            f"Imported {result['created']} reason codes as themes; they took {taken} "
            f"({result['already']} already themes)."
        )
        return result | {"message": said}

    kept = {"import_codes": codes, "import_attribute": from_attribute,
            "import_min_contacts": min_contacts, "import_source": source}  # fmt: skip
    return await _act(request, session, snapshot, state, csrf, work, kept)


@router.get("/themes.csv")
async def themes_csv(session: SessionDep, state: StateDep) -> Response:
    """The curated themes as the sheet people review (the columns of `rca taxonomy list
    --format csv` and an empty `merge_into`), spreadsheet-safe; edited, it is pasted back under
    "Review as a sheet"."""
    import pandas as pd

    from rca.cluster.theme_sheet import SHEET_COLUMNS, sheet_rows
    from rca.repeats.examples import cases_to_csv

    listing = await run_in_threadpool(curate.taxonomy_listing, state.settings)
    frame = pd.DataFrame(sheet_rows(listing["themes"]), columns=SHEET_COLUMNS)
    return Response(
        cases_to_csv(frame, bom=True),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="themes.csv"'},
    )


@router.post("/apply")
async def apply_sheet(
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    state: StateDep,
    sheet: Annotated[str, Form(max_length=500_000)] = "",
    dry_run: Annotated[str, Form(max_length=10)] = "",
    why: Text = "",
    upload: Upload = None,
    source: Source = "",
    csrf: Csrf = "",
) -> Response:
    """A reviewed theme sheet pasted as CSV or chosen as a file (CSV or the Excel workbook the
    reviewer saved): "Preview" lists the edits it asks for without writing; "Apply" makes
    them, all or none."""
    from rca.jobs.apply_sheet import apply_sheet as apply
    from rca.jobs.apply_sheet import parse_sheet

    sheet, problem, source = await _upload_text(
        upload, sheet, 500_000, "rca taxonomy apply sheet.xlsx", source, ("theme_id",)
    )

    def work(by: str) -> dict[str, Any]:
        _refuse(problem)
        result = apply(
            state.settings, parse_sheet(sheet), dry_run=bool(dry_run), actor=by,
            reason=why or f"theme sheet {_source(source, sheet)} on the taxonomy page",
        )  # fmt: skip
        n, rows = len(result["edits"]), result["rows"]
        if dry_run:
            said = (f"Preview: the sheet asks for {counted(n, 'edit')} ({result['unchanged']} "
                    f"of {rows} rows unchanged); nothing written.")  # fmt: skip
            return result | {"message": said,
                             "shown": {"sheet_preview": result, "sheet_text": sheet,
                                       "sheet_source": source}}  # fmt: skip
        if not result["changed"]:
            return result | {"message": "Nothing to change: the taxonomy already says so."}
        ids = [e["edit_id"] for e in result["edits"]]
        span = ids[0] if len(ids) == 1 else f"{ids[0]}–{ids[-1]}"  # not "E0001–E0001"
        said = f"Applied the sheet: {counted(n, 'edit')} ({span})."
        return result | {"message": said}

    kept = {"sheet_text": sheet, "sheet_source": source}
    return await _act(request, session, snapshot, state, csrf, work, kept)
