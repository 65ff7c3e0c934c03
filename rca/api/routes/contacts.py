"""POST /v1/contacts: a batch of contacts, validated and stored exactly like a file ingest."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from rca.api.auth import Writer
from rca.api.deps import SettingsDep, StateDep
from rca.api.routes.common import WRITE_ERRORS, check_max
from rca.api.schemas import ContactsIn, ContactsOut, RowResult
from rca.api.state import ServiceState
from rca.ingest.records import RecordsOutcome, ingest_records

router = APIRouter(prefix="/v1", tags=["contacts"], dependencies=[Writer])
log = logging.getLogger("rca.api")


def _assign(state: ServiceState, outcome: RecordsOutcome) -> int | None:
    """Assign the written contacts to the champion now, with the process's loaded encoder."""
    from rca.jobs.assign import assign_frame
    from rca.store import Store
    from rca.store.themes import load_contacts

    if not outcome.written_ids or not state.ready:
        return None
    snapshot = state.current()
    store = Store(state.settings.store_path)
    with store.read() as con:
        frame = load_contacts(con, contact_ids=outcome.written_ids)
    result = assign_frame(
        store, state.encoder(snapshot.catalog), snapshot.catalog, frame, replace=True
    )
    return result.contacts


@router.post("/contacts", response_model=ContactsOut, responses=WRITE_ERRORS)
async def post_contacts(body: ContactsIn, state: StateDep, settings: SettingsDep) -> ContactsOut:
    """Idempotent on contact_id: a row is inserted, updated (its content changed), unchanged,
    or rejected with the reason it was quarantined for. Nothing sent is ever dropped."""
    check_max("body", "contacts", len(body.contacts), settings.api_max_contacts)
    records = [c.model_dump(exclude_none=True) for c in body.contacts]
    outcome = await run_in_threadpool(ingest_records, records, settings)
    assigned = None
    if settings.api_assign_on_ingest:
        assigned = await run_in_threadpool(_assign, state, outcome)
    if outcome.written_ids:
        await run_in_threadpool(state.refresh)
    return ContactsOut(
        ingest_id=outcome.ingest_id,
        inserted=outcome.count("inserted"),
        updated=outcome.count("updated"),
        unchanged=outcome.count("unchanged"),
        rejected=outcome.count("rejected"),
        context=outcome.count("context"),
        assigned=assigned,
        results=[RowResult(**r) for r in outcome.results],
    )
