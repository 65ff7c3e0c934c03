"""Wide-export benchmark: `detect_spikes` on a narrow export vs the same export + 50 columns.

`python -m experiments.bench_wide [N]` writes a demo stream of N contacts, ingests it as is
(narrow: 4 dimensions) and with 50 extra CRM-style columns (10 low-cardinality custom fields,
10 mid-cardinality ones, 10 ids, 10 ZIP codes, 10 free-text fields) into two fresh homes,
gives both the demo's own intents as themes (so no embedding or fit is timed), and times
`queries.spike_report.detect_spikes` on each. Issue 22's target: wide <= 2x narrow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from rca.demo import DemoConfig, write_demo
from rca.ingest.pipeline import ingest_paths
from rca.queries.spike_report import detect_spikes
from rca.settings import Settings
from rca.store import Store
from rca.store.status import store_status

DEFAULT_N = 20_000
REPEATS = 3
WORDS = ("card", "refund", "late", "app", "crash", "login", "parcel", "fee", "charge", "help")


def widen(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """The export with 50 extra columns of the kinds real CRM exports carry."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    extra: dict[str, object] = {}
    for i in range(10):
        extra[f"custom_flag_{i}"] = rng.choice([f"v{j}" for j in range(3 + i % 5)], size=n)
        extra[f"custom_segment_{i}"] = rng.choice([f"s{j}" for j in range(20 + 3 * i)], size=n)
        extra[f"ticket_ref_{i}"] = [f"R{i}-{k:08d}" for k in rng.permutation(n)]
        extra[f"zip_{i}"] = rng.integers(10_000, 99_999, size=n).astype(str)
        extra[f"note_{i}"] = [
            " ".join(rng.choice(WORDS, size=int(rng.integers(6, 14)))) for _ in range(n)
        ]
    return pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)


def give_themes(settings: Settings, truth: pd.DataFrame) -> None:
    """A champion whose themes are the demo's intents: spikes are timed, not the fit."""
    intents = sorted(truth["intent"].unique())
    theme_of = {intent: f"T{i + 1:04d}" for i, intent in enumerate(intents)}
    assignments = pd.DataFrame(
        {
            "model_version": "bench",
            "contact_id": truth["contact_id"],
            "theme_id": truth["intent"].map(theme_of),
            "similarity": 1.0,
        }
    )
    themes = pd.DataFrame(
        {
            "model_version": "bench",
            "theme_id": list(theme_of.values()),
            "label": list(theme_of.keys()),
            "size": 1,
        }
    )
    with Store(settings.store_path).write() as con:
        con.register("a", assignments)
        con.register("t", themes)
        con.execute("INSERT INTO assignments SELECT * FROM a")
        con.execute(
            "INSERT INTO themes (model_version, theme_id, label, size) "
            "SELECT model_version, theme_id, label, size FROM t"
        )
        con.execute(
            "INSERT INTO models (model_version, model_id, trained_at, n_themes, is_champion) "
            "VALUES ('bench', 'truth', ?, ?, TRUE)",
            [datetime.now(UTC), len(intents)],
        )


def time_spikes(settings: Settings) -> tuple[float, int]:
    best = float("inf")
    spikes = 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        report = detect_spikes(settings, "latest")
        best = min(best, time.perf_counter() - started)
        spikes = len(report.spikes)
    return best, spikes


def time_command(settings: Settings) -> float:
    """`rca spikes --period latest` end to end, as a user runs it (a fresh process each time:
    start-up, reading the store, the analysis, the report), best of REPEATS."""
    command = [sys.executable, "-m", "rca", "spikes", "--period", "latest", "--format", "json",
               "--home", str(settings.home)]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        best = min(best, time.perf_counter() - started)
    return best


def main(n: int = DEFAULT_N) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        contacts, truth_path, _ = write_demo(
            root / "demo", Settings().datasets_dir, DemoConfig(n_contacts=n, seed=1)
        )
        truth = pd.read_csv(truth_path)
        frame = pd.read_csv(contacts, dtype=str, keep_default_na=False)
        wide_path = root / "wide.csv"
        widen(frame).to_csv(wide_path, index=False)
        out: dict[str, object] = {"contacts": n}
        for name, path in (("narrow", contacts), ("wide", wide_path)):
            settings = Settings(home=root / name)
            started = time.perf_counter()
            summary = ingest_paths([str(path)], settings)
            out[f"{name}_ingest_s"] = round(time.perf_counter() - started, 2)
            out[f"{name}_notes"] = [
                n for n in summary.files[0].notes if "dimension" in n or "set aside" in n
            ]
            give_themes(settings, truth)
            with Store(settings.store_path).read() as con:
                out[f"{name}_dimensions"] = len(store_status(con)["dimensions"])
            seconds, spikes = time_spikes(settings)
            out[f"{name}_spikes_s"] = round(seconds, 2)
            out[f"{name}_spikes"] = spikes
            out[f"{name}_command_s"] = round(time_command(settings), 2)
        out["ratio"] = round(float(out["wide_spikes_s"]) / float(out["narrow_spikes_s"]), 2)
        out["command_ratio"] = round(
            float(out["wide_command_s"]) / float(out["narrow_command_s"]), 2
        )
    return out


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:])), indent=2, default=str))
