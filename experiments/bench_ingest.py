"""Ingest benchmark: demo streams of several sizes, fresh store, then a re-ingest.

`python -m experiments.bench_ingest [--xlsx] [N ...]` prints rows/s for the first ingest and for
the idempotent re-ingest, plus the process's peak memory. `--xlsx` saves each stream as an Excel
workbook first (timed apart, not counted) and ingests that. Figures, not assertions: tests stay
deterministic, speed is measured here.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from rca.demo import DemoConfig, write_demo
from rca.ingest.pipeline import ingest_paths
from rca.settings import Settings

DEFAULT_SIZES = (20_000, 100_000)


def bench(n: int, root: Path, xlsx: bool = False) -> dict[str, float]:
    settings = Settings(home=root / f"home-{n}")
    contacts, _truth, _manifest = write_demo(
        root / f"demo-{n}", settings.datasets_dir, DemoConfig(n_contacts=n)
    )
    if xlsx:
        import pandas as pd

        book = contacts.with_suffix(".xlsx")
        pd.read_csv(contacts, dtype=str, keep_default_na=False).to_excel(book, index=False)
        contacts = book
    started = time.perf_counter()
    first = ingest_paths([str(contacts)], settings)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    again = ingest_paths([str(contacts)], settings)
    again_s = time.perf_counter() - started
    assert again.totals()["unchanged"] == first.totals()["inserted"]
    return {
        "rows": n,
        "ingest_s": first_s,
        "rows_per_s": n / first_s,
        "reingest_s": again_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(sizes: list[int], xlsx: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'rows':>9} {'ingest s':>9} {'rows/s':>9} {'re-ingest s':>12} {'peak MB':>8}")
        for n in sizes:
            r = bench(n, Path(tmp), xlsx)
            print(
                f"{r['rows']:>9,} {r['ingest_s']:>9.2f} {r['rows_per_s']:>9,.0f} "
                f"{r['reingest_s']:>12.2f} {r['peak_rss_mb']:>8.0f}"
            )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--xlsx"]
    main([int(a) for a in args] or list(DEFAULT_SIZES), xlsx="--xlsx" in sys.argv[1:])
