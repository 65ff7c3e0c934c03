"""Idempotency per period and recipient list: the `reports_sent` table.

A scheduled job may run twice (a retry, a manual rerun, two hosts): a period's report goes to
the same list once unless forced. The key is the period plus a hash of the sorted, lower-cased
addresses, so the order or case of `--to` does not matter and the addresses themselves are not
stored. Every attempt (sent or failed) is a row, for the audit trail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rca.store import Store
from rca.store.db import first_row

SENT, FAILED = "sent", "failed"
#: Stored error texts are one line and bounded.
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class LedgerRow:
    period: str
    recipients_hash: str
    sent_at: datetime
    status: str
    message_id: str | None
    error: str | None


def normalise_recipients(recipients: Iterable[str]) -> list[str]:
    """Trimmed, lower-cased, de-duplicated and sorted addresses."""
    return sorted({r.strip().lower() for r in recipients if r.strip()})


def recipients_hash(recipients: Iterable[str]) -> str:
    joined = "\n".join(normalise_recipients(recipients))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def last_sent(store: Store, period: str, rhash: str) -> LedgerRow | None:
    """The latest successful send of this period to this list, if any."""
    if not store.exists:
        return None
    with store.read() as con:
        row = first_row(
            con,
            "SELECT period, recipients_hash, sent_at, status, message_id, error FROM reports_sent "
            "WHERE period = ? AND recipients_hash = ? AND status = ? "
            "ORDER BY sent_at DESC LIMIT 1",
            [period, rhash, SENT],
        )
    return LedgerRow(*row) if row else None


def record(
    store: Store,
    *,
    period: str,
    rhash: str,
    at: datetime,
    status: str,
    message_id: str | None,
    error: str | None = None,
) -> None:
    """Append one attempt (one short write transaction)."""
    if error is not None:
        error = " ".join(error.split())[:MAX_ERROR_CHARS]
    with store.write() as con:
        con.execute(
            "INSERT INTO reports_sent (period, recipients_hash, sent_at, status, message_id, "
            "error) VALUES (?, ?, ?, ?, ?, ?)",
            [period, rhash, at, status, message_id, error],
        )


def history(store: Store, period: str | None = None) -> list[LedgerRow]:
    """Every recorded attempt (of one period), oldest first."""
    if not store.exists:
        return []
    where, args = ("WHERE period = ?", [period]) if period else ("", [])
    with store.read() as con:
        rows = con.execute(
            "SELECT period, recipients_hash, sent_at, status, message_id, error FROM reports_sent "
            f"{where} ORDER BY sent_at",
            args,
        ).fetchall()
    return [LedgerRow(*r) for r in rows]
