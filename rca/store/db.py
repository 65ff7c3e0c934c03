"""Opening the DuckDB store: migrations, single-transaction writes, and lock handling.

DuckDB allows, per database file, EITHER one read-write process OR any number of read-only
processes (within one process, many connections share one database instance). `rca` respects
this by keeping every connection short-lived: a command does its parsing, validation and
analysis in memory first, then opens the file, writes everything in ONE transaction and closes
it; readers (the API, `rca status`) open read-only per request. When the file is locked by the
other side, opening retries with backoff for `lock_timeout_s` before failing with a clear
message. A killed writer leaves only an uncommitted transaction, which DuckDB discards on the
next open, so the store is always as it was before the command or as after it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from rca.errors import BusyError, NotReadyError, RcaError
from rca.store.schema import MIGRATIONS, SCHEMA_VERSION

LOCK_RETRY_FIRST_S = 0.05
LOCK_RETRY_MAX_S = 1.0


def _is_lock_error(exc: Exception) -> bool:
    """Another process holds the file, or (inside one process, e.g. the API's threads) another
    connection is open with the other read-only/read-write mode: both clear when it closes."""
    text = str(exc).lower()
    other_process = "lock" in text and ("conflicting" in text or "could not set" in text)
    same_process = "different configuration than existing connections" in text
    return other_process or same_process


def _connect(path: Path, *, read_only: bool, lock_timeout_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + lock_timeout_s
    delay = LOCK_RETRY_FIRST_S
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                if _is_lock_error(exc):
                    raise BusyError(
                        f"store {path} is busy (another rca process is writing); try again"
                    ) from exc
                raise NotReadyError(f"cannot open store {path}: {exc}") from exc
            time.sleep(delay)
            delay = min(delay * 2, LOCK_RETRY_MAX_S)


def first_row(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, with the result fully consumed.

    DuckDB 2 refuses further work (e.g. `register`) on a connection whose last result was only
    partly fetched, so `fetchone()` is never used on shared connections.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def window_clauses(
    since: datetime | None, until: datetime | None, column: str = "created_at"
) -> tuple[list[str], list[Any]]:
    """SQL conditions and parameters for `since <= column < until` (either bound optional)."""
    clauses: list[str] = []
    args: list[Any] = []
    if since is not None:
        clauses.append(f"{column} >= ?")
        args.append(since)
    if until is not None:
        clauses.append(f"{column} < ?")
        args.append(until)
    return clauses, args


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = first_row(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    )
    if not exists or exists[0] == 0:
        return 0
    row = first_row(con, "SELECT coalesce(max(version), 0) FROM schema_version")
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply missing migrations, each in its own transaction; return the resulting version."""
    version = current_version(con)
    if version > SCHEMA_VERSION:
        raise RcaError(
            f"store schema version {version} is newer than this rca ({SCHEMA_VERSION}); upgrade rca"
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ DEFAULT current_timestamp)"
            )
            for statement in MIGRATIONS[number - 1]:
                con.execute(statement)
            con.execute("INSERT INTO schema_version (version) VALUES (?)", [number])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION


class Store:
    """A handle on the store file; connections are opened per use, never held."""

    def __init__(self, path: Path, *, lock_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s

    @property
    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One read-write transaction: committed on success, rolled back on any error."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = _connect(self.path, read_only=False, lock_timeout_s=self.lock_timeout_s)
        try:
            migrate(con)
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection; a missing or un-migrated store is a clear error."""
        if not self.exists:
            raise NotReadyError(f"no store at {self.path}: run `rca ingest` or `rca demo` first")
        con = _connect(self.path, read_only=True, lock_timeout_s=self.lock_timeout_s)
        try:
            version = current_version(con)
            if version < SCHEMA_VERSION:
                raise RcaError(
                    f"store {self.path} has schema {version}, this rca needs {SCHEMA_VERSION}: "
                    "run any writing command (e.g. `rca ingest`) to migrate it"
                )
            yield con
        finally:
            con.close()
