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

import contextlib
import re
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
#: DuckDB's file header: one main and two database headers of 4 KiB before the first block.
HEADER_BYTES = 3 * 4096
#: DuckDB's words for a file that is not (or no longer) a whole database: truncated by a full
#: disk or a bad copy, overwritten, or corrupted on disk.
DAMAGE = re.compile(
    r"could not read enough bytes|not a valid duckdb database|corrupt|checksum|"
    r"invalid block|block .* out of range|unexpected end of file",
    re.IGNORECASE,
)


def damaged(path: Path, exc: BaseException) -> RcaError | None:
    """A clear error for a damaged store file, or None when `exc` says something else.

    The damage may be the context of what surfaced (an aborted transaction refusing the
    clean-up after a failed read), so the whole chain is searched.
    """
    seen: BaseException | None = exc
    while seen is not None and not DAMAGE.search(str(seen)):
        seen = seen.__cause__ or seen.__context__
    if seen is None:
        return None
    text = str(seen)
    first = text.splitlines()[0] if text else type(seen).__name__
    return RcaError(
        f"store {path} is damaged ({first}); nothing was written: restore it from a backup, "
        "or move it aside to start a new store"
    )


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
                raise damaged(path, exc) or NotReadyError(
                    f"cannot open store {path}: {exc}"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, LOCK_RETRY_MAX_S)


def check_whole(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a file shorter than its own header says: a truncated copy or a full disk can
    leave one DuckDB still opens, and whose missing blocks fail only when a query needs them
    (or never, and a write goes where nothing can read it back)."""
    # used blocks, not total: free blocks at the end may be cut off by DuckDB itself, but
    # every used block needs its own slot, so a shorter file has certainly lost some.
    row = first_row(con, "SELECT block_size, used_blocks FROM pragma_database_size()")
    if row is None or not path.exists():
        return
    expected = HEADER_BYTES + int(row[0]) * int(row[1])
    size = path.stat().st_size
    if size < expected:
        raise RcaError(
            f"store {path} is damaged (the file is {size} bytes, its blocks need {expected}: "
            "truncated?); nothing was written: restore it from a backup, or move it aside "
            "to start a new store"
        )


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
            check_whole(con, self.path)
            migrate(con)
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException as exc:
                # an aborted transaction refuses ROLLBACK; the original error is the story
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                error = damaged(self.path, exc)
                if error is not None:
                    raise error from exc
                raise
        except duckdb.Error as exc:  # migrating a damaged file
            error = damaged(self.path, exc)
            if error is not None:
                raise error from exc
            raise
        finally:
            con.close()

    def upgrade(self) -> None:
        """Apply the migrations an older store lacks: the first step of a writing command that
        reads before it writes (`rca fit`, `rca assign`), which would otherwise stop at `read`'s
        "run a writing command" after a user upgraded rca."""
        if self.exists:
            with self.write():
                pass

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection; a missing or un-migrated store is a clear error."""
        if not self.exists:
            raise NotReadyError(f"no store at {self.path}: run `rca ingest` or `rca demo` first")
        con = _connect(self.path, read_only=True, lock_timeout_s=self.lock_timeout_s)
        try:
            try:
                version = current_version(con)
            except duckdb.Error as exc:
                error = damaged(self.path, exc)
                if error is not None:
                    raise error from exc
                raise
            if version < SCHEMA_VERSION:
                raise RcaError(
                    f"store {self.path} has schema {version}, this rca needs {SCHEMA_VERSION}: "
                    "run any writing command (e.g. `rca ingest`) to migrate it"
                )
            yield con
        finally:
            con.close()
