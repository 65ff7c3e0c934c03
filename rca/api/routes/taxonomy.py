"""/v1/taxonomy: the curated themes (reader) and a person's corrections of them (writer).

Thin over `rca.jobs.curate`, which the CLI and the dashboard call too. An edit that changed
something refreshes the snapshot before answering, so the next read shows it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from rca.api.auth import ApiKey, Reader, require
from rca.api.deps import SettingsDep, StateDep
from rca.api.routes.common import READ_ERRORS, problems
from rca.api.schemas import (
    AcceptIn,
    CasesIn,
    CasesOut,
    CreateIn,
    EditNote,
    ImportIn,
    ImportOut,
    MergeIn,
    MoveIn,
    ReassignIn,
    RenameIn,
    SheetIn,
    SheetOut,
    SplitIn,
    SplitPreviewOut,
    TaxonomyChangeOut,
    TaxonomyHistoryOut,
    TaxonomyOut,
    ThemeIn,
    UndoIn,
    clean,
)
from rca.api.state import ServiceState
from rca.embed.encoder import Encoder
from rca.errors import InvalidInputError
from rca.jobs import curate

router = APIRouter(prefix="/v1/taxonomy", tags=["taxonomy"])
WriterKey = Annotated[ApiKey, Depends(require("writer"))]
EDIT_ERRORS = problems(400, 401, 403, 404, 413, 422, 503)


def _who(body: EditNote, key: ApiKey) -> dict[str, Any]:
    return {"actor": body.by or key.name, "reason": body.why}


async def _changed(state: ServiceState, result: dict[str, Any]) -> TaxonomyChangeOut:
    if result.get("changed"):
        await run_in_threadpool(state.refresh)
    return TaxonomyChangeOut(**clean(result))


@router.get("", response_model=TaxonomyOut, responses=READ_ERRORS, dependencies=[Reader])
async def taxonomy(settings: SettingsDep) -> TaxonomyOut:
    """The curated themes: pinned names, merges as one, split parts, created and hidden themes,
    open split previews, and what the last refit proposes for curated themes."""
    return TaxonomyOut(**clean(await run_in_threadpool(curate.taxonomy_listing, settings)))


@router.get(
    "/history", response_model=TaxonomyHistoryOut, responses=READ_ERRORS, dependencies=[Reader]
)
async def history(settings: SettingsDep) -> TaxonomyHistoryOut:
    """Every edit, oldest first: who, when, what and why."""
    edits = await run_in_threadpool(curate.taxonomy_history, settings)
    return TaxonomyHistoryOut(edits=clean(edits))


def _loaded_encoder(state: ServiceState) -> Encoder | None:
    """The process's loaded encoder for the champion (None before a snapshot is ready: the job
    loads the configured one). Blocking on first use: call it in the threadpool."""
    snapshot = state.current() if state.ready else None
    return state.encoder(snapshot.catalog) if snapshot else None


async def _edit(
    state: ServiceState, action: str, theme_id: str, params: dict[str, Any], who: dict[str, Any]
) -> TaxonomyChangeOut:
    result = await run_in_threadpool(
        lambda: curate.apply_edit(state.settings, action, theme_id, params=params, **who)
    )
    return await _changed(state, result)


@router.post("/rename", response_model=TaxonomyChangeOut, responses=EDIT_ERRORS)
async def rename(body: RenameIn, state: StateDep, key: WriterKey) -> TaxonomyChangeOut:
    """Pin a name on a theme; a refit keeps it."""
    return await _edit(state, "rename", body.theme_id, {"label": body.label}, _who(body, key))


@router.post("/merge", response_model=TaxonomyChangeOut, responses=EDIT_ERRORS)
async def merge(body: MergeIn, state: StateDep, key: WriterKey) -> TaxonomyChangeOut:
    """Merge `sources` into `target`: one theme in every report."""
    params = {"sources": body.sources}
    return await _edit(state, "merge", body.target, params, _who(body, key))


@router.post("/reassign", response_model=TaxonomyChangeOut, responses=EDIT_ERRORS)
async def reassign(body: ReassignIn, state: StateDep, key: WriterKey) -> TaxonomyChangeOut:
    """File contacts under `theme_id` by hand (a case the themes put in the wrong place); they
    stay there through refits and created themes until the edit is undone. 404 names a contact
    the champion has not assigned. With `teach`, contacts like them (now and later) follow;
    422 for a `threshold` without `teach`."""
    params: dict[str, object] = {"contacts": body.contact_ids}
    if body.teach:
        params |= {"teach": True, "threshold": body.threshold}
    return await _edit(state, "reassign", body.theme_id, params, _who(body, key))


@router.post("/reassign-cases", response_model=CasesOut, responses=EDIT_ERRORS)
async def reassign_cases(body: CasesIn, state: StateDep, key: WriterKey) -> CasesOut:
    """A theme's cases with corrected theme ids: each row's contact filed under its row's
    theme, one reassign per theme, all or none (400 names every row that cannot be filed);
    rows whose contact is in its theme already change nothing; `dry_run` writes nothing."""
    import pandas as pd

    from rca.jobs.file_cases import file_cases

    frame = pd.DataFrame([{"contact_id": r.contact_id, "theme_id": r.theme_id}
                          for r in body.rows])  # fmt: skip
    who = _who(body, key)
    result = await run_in_threadpool(
        lambda: file_cases(
            state.settings,
            frame,
            dry_run=body.dry_run,
            first_line=1,
            row_word="row",
            actor=who["actor"],
            reason=who["reason"] or "cases filed through the API",
            teach=body.teach,
        )  # fmt: skip
    )
    if result["changed"]:
        await run_in_threadpool(state.refresh)
    return CasesOut(**clean(result))


@router.post("/move", response_model=TaxonomyChangeOut, responses=EDIT_ERRORS)
async def move(body: MoveIn, state: StateDep, key: WriterKey) -> TaxonomyChangeOut:
    """Move a theme to another parent group, or out of its group (`ungroup`)."""
    params: dict[str, Any] = {"parent_group": body.parent_group}
    if body.ungroup:
        params["ungroup"] = True
    return await _edit(state, "move", body.theme_id, params, _who(body, key))


@router.post("/hide", response_model=TaxonomyChangeOut, responses=EDIT_ERRORS)
async def hide(body: ThemeIn, state: StateDep, key: WriterKey) -> TaxonomyChangeOut:
    """Leave a theme (small talk, spam) out of top lists, spikes and the e-mail; still counted."""
    return await _edit(state, "hide", body.theme_id, {}, _who(body, key))


@router.post("/keep", response_model=TaxonomyChangeOut, responses=EDIT_ERRORS)
async def keep(body: ThemeIn, state: StateDep, key: WriterKey) -> TaxonomyChangeOut:
    """Keep a theme as it is: the refit's open proposals about it are declined, and later
    refits hold what they carve out of it without proposing it again."""
    return await _edit(state, "keep", body.theme_id, {}, _who(body, key))


@router.post("/unhide", response_model=TaxonomyChangeOut, responses=EDIT_ERRORS)
async def unhide(body: ThemeIn, state: StateDep, key: WriterKey) -> TaxonomyChangeOut:
    """Show a hidden theme again."""
    return await _edit(state, "unhide", body.theme_id, {}, _who(body, key))


@router.post("/undo", response_model=TaxonomyChangeOut, responses=EDIT_ERRORS)
async def undo(body: UndoIn, state: StateDep, key: WriterKey) -> TaxonomyChangeOut:
    """Take back an earlier edit (kept in the history); 400 when a later edit builds on it."""
    return await _edit(state, "undo", "", {"edit_id": body.edit_id}, _who(body, key))


@router.post("/split", response_model=SplitPreviewOut, responses=EDIT_ERRORS)
async def split(body: SplitIn, state: StateDep, key: WriterKey) -> SplitPreviewOut:
    """Preview a split into `parts`; nothing changes until POST /v1/taxonomy/accept."""

    def run() -> dict[str, Any]:
        return curate.preview_split(
            state.settings, body.theme_id, parts=body.parts, encoder=_loaded_encoder(state),
            proposed=body.proposed, **_who(body, key),
        )  # fmt: skip

    preview = await run_in_threadpool(run)
    return SplitPreviewOut(**clean(preview))


@router.post("/accept", response_model=TaxonomyChangeOut, responses=EDIT_ERRORS)
async def accept(body: AcceptIn, state: StateDep, key: WriterKey) -> TaxonomyChangeOut:
    """Accept a split preview: its parts become themes with new stable ids."""
    result = await run_in_threadpool(
        lambda: curate.accept_split(state.settings, body.preview_id, **_who(body, key))
    )
    return await _changed(state, result)


@router.post("/create", response_model=TaxonomyChangeOut, responses=EDIT_ERRORS)
async def create(body: CreateIn, state: StateDep, key: WriterKey) -> TaxonomyChangeOut:
    """A theme from example contact ids, or from a name and description (a reason code),
    taking the contacts at least `threshold` similar to it."""

    def run() -> dict[str, Any]:
        encoder = None if body.examples else _loaded_encoder(state)
        return curate.create_theme(
            state.settings, body.label, description=body.description,
            examples=body.examples, threshold=body.threshold,
            parent_group=body.parent_group, encoder=encoder, **_who(body, key),
        )  # fmt: skip

    return await _changed(state, await run_in_threadpool(run))


@router.post("/import", response_model=ImportOut, responses=EDIT_ERRORS)
async def import_codes(body: ImportIn, state: StateDep, key: WriterKey) -> ImportOut:
    """A team's reason codes: one created theme each (name and description embedded), all or
    none; codes a created theme already has are left alone; `dry_run` says what each would
    take, and from which themes, without writing."""
    import pandas as pd

    from rca.cluster.reason_codes import reason_codes
    from rca.jobs.import_codes import codes_from_attribute, import_reason_codes

    if bool(body.codes) == bool(body.from_attribute):
        raise InvalidInputError("give codes or from_attribute (one of the two)")
    codes = []
    if body.codes:
        frame = pd.DataFrame(
            [
                {"label": c.label, "description": c.description or "",
                 "threshold": "" if c.threshold is None else str(c.threshold),
                 "parent_group": c.parent_group or ""}
                for c in body.codes
            ]
        )  # fmt: skip
        codes = reason_codes(frame, threshold=body.threshold, row_word="code", first_row=1)

    def run() -> dict[str, Any]:
        too_few: dict[str, int] = {}
        made = codes
        if body.from_attribute:
            coded = codes_from_attribute(
                state.settings, body.from_attribute, threshold=body.threshold,
                min_contacts=body.min_contacts,
            )  # fmt: skip
            made, too_few = coded.codes, coded.too_few
        return import_reason_codes(
            state.settings, made, dry_run=body.dry_run, too_few=too_few,
            encoder=_loaded_encoder(state) if any(c.centroid is None for c in made) else None,
            **_who(body, key),
        )  # fmt: skip

    result = await run_in_threadpool(run)
    if result["changed"]:
        await run_in_threadpool(state.refresh)
    return ImportOut(**clean(result))


@router.post("/apply", response_model=SheetOut, responses=EDIT_ERRORS)
async def apply_sheet(body: SheetIn, state: StateDep, key: WriterKey) -> SheetOut:
    """A reviewed theme sheet: renames, parent groups, hidden themes and merges, one edit
    each, all or none (400 lists every row that cannot apply); rows that match the taxonomy
    make no edit; `dry_run` lists the edits without writing."""
    import pandas as pd

    from rca.jobs.apply_sheet import apply_sheet as apply

    frame = pd.DataFrame(
        [
            {"theme_id": r.theme_id, "label": r.label or "", "parent_group": r.parent_group or "",
             "hidden": "" if r.hidden is None else ("yes" if r.hidden else "no"),
             "merge_into": r.merge_into or ""}
            for r in body.rows
        ]
    )  # fmt: skip
    result = await run_in_threadpool(
        lambda: apply(
            state.settings,
            frame,
            dry_run=body.dry_run,
            first_line=1,
            row_word="row",
            **_who(body, key),
        )  # fmt: skip
    )
    if result["changed"]:
        await run_in_threadpool(state.refresh)
    return SheetOut(**clean(result))
