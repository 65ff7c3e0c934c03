"""Seconds per stage of `rca refresh` on a copy of the 20k demo store, one process vs Ray.

New contacts are a second demo stream (another seed, ids prefixed `R`) over the store's last
weeks: real texts, some already in the embedding cache (the demo reuses corpus texts), the rest
new. Each run gets a fresh copy of the store, so every run does the same work.

    HF_HUB_OFFLINE=1 .venv/bin/python -m experiments.refresh_bench --sizes 1000 10000 \
        --ray-size 10000

Writes experiments/results/refresh_bench.md (never touches the source store).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from rca.demo import DemoConfig, write_demo
from rca.jobs.refresh import refresh
from rca.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "refresh_bench.md"
DEMO_WEEKS = 6  # the generator's minimum; the stream's last weeks overlap the store's


def new_contacts(out: Path, n: int, data_dir: Path) -> Path:
    contacts, _truth, _manifest = write_demo(
        out / "gen", data_dir, DemoConfig(n_contacts=n, weeks=DEMO_WEEKS, seed=7)
    )
    frame = pd.read_csv(contacts, dtype=str, keep_default_na=False)
    frame["contact_id"] = "R" + frame["contact_id"]
    frame["customer_id"] = frame["customer_id"].map(lambda c: f"R{c}" if c else c)
    path = out / f"new-{n}.csv"
    frame.to_csv(path, index=False)
    return path


def run_once(source: Path, work: Path, export: Path, engine: str) -> dict[str, object]:
    home = work / f"home-{engine}-{export.stem}"
    shutil.copytree(source, home)
    settings = Settings(home=home)
    started = time.perf_counter()
    result = refresh(settings, [str(export)], engine=engine)
    wall = time.perf_counter() - started
    shutil.rmtree(home)
    return {
        "engine": engine,
        "ray_actors": settings.ray_actors if engine == "ray" else "",
        "contacts": result.processed,
        "new_vectors": result.new_vectors,
        "wall_s": round(wall, 2),
        **{k: round(v, 2) for k, v in result.seconds.items()},
        "refit_due": result.refit_due,
    }


def markdown(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.to_numpy()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=Path(".rca"), help="demo RCA_HOME (read)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--ray-size", type=int, default=10000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    data_dir = Settings().datasets_dir
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        exports = {
            n: new_contacts(work / f"n{n}", n, data_dir)
            for n in {*args.sizes, *([args.ray_size] if args.ray_size else [])}
        }
        for n in args.sizes:
            rows.append(run_once(args.store, work, exports[n], "local"))
            print(rows[-1], flush=True)
        if args.ray_size:
            rows.append(run_once(args.store, work, exports[args.ray_size], "ray"))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows).astype(object).fillna("")
    args.out.write_text(
        "# rca refresh: seconds per stage (20k demo store copy, 2 cores)\n\n"
        + markdown(table)
        + "\n"
    )
    print(args.out.read_text())


if __name__ == "__main__":
    main()
