"""A demo-shaped CSV export of a given size, for the ingest memory benchmark (issue 22).

`python -m experiments.make_big_export OUT.csv [MEGABYTES]` generates a 20,000-contact demo
stream once, then writes its rows again and again under new contact and customer ids until the
file reaches the size asked (200 MB by default). Each text is the row's own text followed by
another row's, so texts run 2-3 sentences (an e-mail's length rather than a chat line's) and
are rarely repeated verbatim. Written outside the repository (e.g. /tmp): it is a benchmark
input, not a fixture.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from rca.demo import DemoConfig, write_demo
from rca.settings import Settings

BASE_CONTACTS = 20_000


def write_big_export(out: Path, megabytes: float = 200.0, seed: int = 7) -> int:
    """Write `out` (at least `megabytes` MB); returns the number of data rows."""
    with tempfile.TemporaryDirectory() as tmp:
        contacts, _truth, _manifest = write_demo(
            Path(tmp), Settings().datasets_dir, DemoConfig(n_contacts=BASE_CONTACTS, seed=seed)
        )
        base = pd.read_csv(contacts, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    columns = list(base.columns)
    target = int(megabytes * 1_000_000)
    rows = base.to_numpy(dtype=object)
    texts = base["text"].to_numpy(dtype=object)
    text_at, id_at, customer_at = (columns.index(c) for c in ("text", "contact_id", "customer_id"))
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        replica = 0
        while handle.tell() < target:
            other = rng.integers(0, len(texts), size=len(rows))
            for i, row in enumerate(rows):
                row = list(row)
                row[id_at] = f"{row[id_at]}-{replica:03d}"
                if row[customer_at]:
                    row[customer_at] = f"{row[customer_at]}-{replica % 7}"
                row[text_at] = f"{row[text_at]} {texts[other[i]]}"
                writer.writerow(row)
                written += 1
                if written % 1000 == 0 and handle.tell() >= target:
                    return written
            replica += 1
    return written


if __name__ == "__main__":
    path = Path(sys.argv[1])
    size = float(sys.argv[2]) if len(sys.argv) > 2 else 200.0
    n = write_big_export(path, size)
    print(f"{path}: {n:,} rows, {path.stat().st_size / 1e6:.1f} MB")
