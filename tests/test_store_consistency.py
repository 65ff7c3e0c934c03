"""The store survives a killed writer, and readers coexist with a writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, make_contacts, run_cli

from rca.ingest.pipeline import ingest_paths
from rca.settings import Settings
from rca.store import Store
from rca.store.status import store_status

BIG_ROWS = 120_000


def _counts(settings: Settings) -> tuple[int, int, int, int]:
    with Store(settings.store_path).read() as con:
        return tuple(
            con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("contacts", "contact_dimensions", "quarantine", "ingests")
        )


def test_killed_ingest_leaves_the_store_as_it_was(tmp_path: Path, settings: Settings) -> None:
    small = tmp_path / "small.csv"
    make_contacts(20).to_csv(small, index=False)
    ingest_paths([str(small)], settings)
    before = _counts(settings)

    big = make_contacts(BIG_ROWS, seed=3)
    big["contact_id"] = "K" + big["contact_id"]
    big.loc[::1000, "created_at"] = "garbage"  # some quarantine rows to write too
    big_path = tmp_path / "big.csv"
    big.to_csv(big_path, index=False)

    process = subprocess.Popen(
        [sys.executable, "-m", "rca", "ingest", str(big_path), "--home", str(settings.home)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RCA_TIMEZONE": settings.timezone},
    )
    assert process.stderr is not None
    for line in process.stderr:  # wait until the write transaction is under way
        if line.startswith("writing"):
            break
    time.sleep(0.5)
    assert process.poll() is None, "ingest finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    assert _counts(settings) == before
    # The store is usable afterwards and the same file then ingests completely.
    summary = ingest_paths([str(big_path)], settings)
    assert summary.totals()["inserted"] == BIG_ROWS - len(big.loc[::1000])
    assert _counts(settings)[0] == before[0] + summary.totals()["inserted"]


def test_reader_waits_for_writer_and_sees_a_consistent_store(
    tmp_path: Path, settings: Settings
) -> None:
    first = tmp_path / "first.csv"
    make_contacts(200).to_csv(first, index=False)
    ingest_paths([str(first)], settings)
    second = tmp_path / "second.csv"
    frame = make_contacts(30_000, seed=5)
    frame["contact_id"] = "S" + frame["contact_id"]
    frame.to_csv(second, index=False)

    seen: list[int] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read_loop() -> None:
        code = (
            "import sys; from rca.store import Store; from rca.store.status import store_status\n"
            "with Store(sys.argv[1], lock_timeout_s=60).read() as con:\n"
            "    print(store_status(con)['contacts'])\n"
        )
        while not done.is_set():
            result = subprocess.run(
                [sys.executable, "-c", code, str(settings.store_path)],
                capture_output=True,
                text=True,
                cwd=REPO,
                timeout=120,
            )
            if result.returncode != 0:
                errors.append(RuntimeError(result.stderr))
                return
            seen.append(int(result.stdout.strip()))

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        ingest_paths([str(second)], settings)
    finally:
        done.set()
        reader.join(timeout=180)
    assert not errors, errors
    assert seen, "the reader never ran"
    assert set(seen) <= {200, 30_200}  # never a half-written store
    with Store(settings.store_path).read() as con:
        assert store_status(con)["contacts"] == 30_200


def test_schema_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    duckdb.connect(str(path)).close()  # an empty database: version 0
    with Store(path).write() as con:
        rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        tables = {r[0] for r in rows}
    assert {"contacts", "quarantine", "embeddings", "schema_version"} <= tables


def test_a_store_one_migration_behind_is_upgraded_by_a_writing_command(tmp_path: Path) -> None:
    """`rca fit` and `rca assign` read before they write: after an upgrade of rca they migrate
    the store first instead of stopping at "run a writing command"."""
    from rca.errors import RcaError
    from rca.store.schema import SCHEMA_VERSION

    store = Store(tmp_path / "rca.duckdb")
    with store.write():
        pass
    con = duckdb.connect(str(store.path))
    for column in ("label", "keywords"):  # the latest migration's
        con.execute(f"ALTER TABLE taxonomy_proposals DROP COLUMN {column}")
    con.execute("DELETE FROM schema_version WHERE version = ?", [SCHEMA_VERSION])
    con.close()
    with pytest.raises(RcaError, match="run any writing command"), store.read():
        pass
    store.upgrade()
    with store.read() as con:
        columns = {r[0] for r in con.execute("DESCRIBE taxonomy_proposals").fetchall()}
    assert {"label", "keywords"} <= columns
    Store(tmp_path / "absent.duckdb").upgrade()  # nothing to upgrade: no file is made
    assert not (tmp_path / "absent.duckdb").exists()


def test_ingest_into_a_truncated_store_fails_clearly_and_writes_nothing(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "few.csv"
    make_contacts(30).to_csv(path, index=False)
    ingest_paths([str(path)], settings)
    whole = settings.store_path.read_bytes()
    for size in (4096, len(whole) // 3, len(whole) - 1):  # header, mid-file, last byte
        settings.store_path.write_bytes(whole[:size])
        done = run_cli("ingest", str(path), home=settings.home)
        assert done.returncode == 1, (size, done.stderr[-500:])
        assert "is damaged" in done.stderr and "unexpected" not in done.stderr, size
        assert settings.store_path.stat().st_size == size  # nothing written
