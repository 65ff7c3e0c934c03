"""Ingesting a batch of records (the API's POST /v1/contacts) exactly as a file is ingested.

The records become the same `RawTable` of strings that the JSONL reader produces, so mapping,
validation, redaction, quarantine and the idempotent upsert are the file path's own code, not
a second implementation that could drift. Each record's `dimensions` object and any unknown
top-level key become dimensions, like a file's extra columns.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from rca.ingest.mapping import FIELDS, REQUIRED_FIELDS, normalise_name
from rca.ingest.pipeline import plan_file, write_plan
from rca.ingest.read import LINE, RawTable, _cell, value_kind
from rca.settings import Settings
from rca.store import Store

SOURCE = "api"
#: A refused record is kept in the quarantine only this long (3,000 keys would be ~100 kB).
MAX_REJECT_CHARS = 10_000


@dataclass
class RecordsOutcome:
    ingest_id: str
    #: one per record, in order: index, contact_id, status, reason
    results: list[dict[str, Any]] = field(default_factory=list)
    #: contact ids whose row was inserted or changed (what assignment must look at)
    written_ids: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r["status"] == status)


def _flatten(
    record: dict[str, Any], max_dimensions: int | None = None
) -> tuple[dict[str, str], str | None]:
    """One record as string cells; a reason when a dimension name collides with a field or
    the record carries more dimension keys than `max_dimensions` (a record is refused whole,
    never trimmed to an arbitrary subset of what the caller sent)."""
    flat: dict[str, str] = {}
    reason = None
    extra = set(record) - {"dimensions", *FIELDS}
    inner = record.get("dimensions")
    count = len(extra) + (len(inner) if isinstance(inner, dict) else 0)
    if max_dimensions is not None and count > max_dimensions:
        return flat, f"{count} dimension keys; at most {max_dimensions} per record"
    for key, value in record.items():
        if key == "dimensions" and isinstance(value, dict):
            for name, dim in value.items():
                if normalise_name(str(name)) in FIELDS:
                    reason = f"dimension name {name!r} is a contact field"
                flat[str(name)] = _cell(dim)
        else:
            flat[str(key)] = _cell(value)
    return flat, reason


def records_table(
    records: list[dict[str, Any]], *, source: str, max_dimensions: int | None = None
) -> RawTable:
    """The records as a RawTable; LINE is the 1-based position in the batch."""
    rows, rejects, lines = [], [], []
    typed: dict[str, dict[int, str]] = {}
    for number, record in enumerate(records, start=1):
        flat, reason = _flatten(record, max_dimensions)
        if reason:
            shown = json.dumps(record, ensure_ascii=False, default=str)
            rejects.append((number, shown[:MAX_REJECT_CHARS], reason))
            continue
        rows.append(flat)
        lines.append(number)
        inner = record.get("dimensions")
        items = [*(inner.items() if isinstance(inner, dict) else ()), *record.items()]
        for key, value in items:
            if key != "dimensions" and (kind := value_kind(value)):
                typed.setdefault(str(key), {})[number] = kind
    frame = pd.DataFrame.from_records(rows).astype(object) if rows else pd.DataFrame()
    for name in REQUIRED_FIELDS:  # an absent field is a per-row reject, never a batch error
        if name not in frame.columns:
            frame[name] = ""
    frame = frame.where(frame.notna(), "")
    frame[LINE] = lines
    digest = hashlib.sha256(
        json.dumps(records, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    return RawTable(Path(source), digest, "utf-8", frame, rejects, [], typed)


def ingest_records(
    records: list[dict[str, Any]],
    settings: Settings,
    *,
    source: str = SOURCE,
    now: datetime | None = None,
) -> RecordsOutcome:
    """Validate, quarantine and upsert `records` in one transaction; a result per record."""
    now = now or datetime.now(UTC)
    ingest_id = uuid.uuid4().hex[:12]
    raw = records_table(
        records, source=f"{source}:{ingest_id}", max_dimensions=settings.api_max_dimensions
    )
    plan = plan_file(raw, None, settings, now)
    with Store(settings.store_path).write() as con:
        counts = write_plan(con, plan, ingest_id=ingest_id, now=now)
    reasons = dict(zip(plan.rejects["line"].astype(int), plan.rejects["reason"], strict=True))
    ids = dict(
        zip(plan.contacts["source_line"].astype(int), plan.contacts["contact_id"], strict=True)
    )
    context = dict(
        zip(plan.context["source_line"].astype(int), plan.context["message_id"], strict=True)
    )
    outcome = RecordsOutcome(ingest_id)
    for number, record in enumerate(records, start=1):
        if number in context:  # the company's own message: context, not a contact
            outcome.results.append(
                {"index": number - 1, "contact_id": context[number], "status": "context",
                 "reason": "outbound message: kept as conversation context"}
            )  # fmt: skip
            continue
        if number in reasons:
            raw_id = record.get("contact_id")  # the caller's own value, echoed back as sent
            shown = _cell(raw_id) if raw_id not in (None, "") else None
            outcome.results.append(
                {
                    "index": number - 1,
                    "contact_id": shown,
                    "status": "rejected",
                    "reason": reasons[number],
                }  # fmt: skip
            )
            continue
        contact_id = ids[number]
        status = counts.statuses.get(contact_id, "unchanged")
        outcome.results.append(
            {"index": number - 1, "contact_id": contact_id, "status": status, "reason": None}
        )
        if status != "unchanged":
            outcome.written_ids.append(contact_id)
    return outcome
