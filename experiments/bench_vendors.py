"""Vendor scorecard benchmark: 1,000,000 contacts, after the analysis frame is loaded.

`python -m experiments.bench_vendors [N] [--out experiments/results]` draws a synthetic
analysis frame of N contacts (20 weeks, N/3 customers, 60 themes, 3 channels, 3 vendors with
7 sites and 105 agents, lognormal handle times, 8 % escalations, CSAT on a third, returns
within the repeat window for ~12 %), marks repeats with `rca.repeats.detect.detect_repeats`
(what `load_repeat_analysis` does once per snapshot; timed separately) and then times, on the
marked frame, what `rca vendors` computes: the scorecard at each level for the newest week and
for the whole range, the shortfalls (handler x theme cells), and the daily/weekly tracking
(`rca.vendors.jumps.track`). Issue 20's target: the scorecard <= 10 s at 1M contacts.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from rca.periods import period_of
from rca.repeats.detect import detect_repeats
from rca.trends.spikes import SpikeConfig
from rca.vendors.jumps import track
from rca.vendors.scorecard import LEVELS, scorecard, shortfalls

DEFAULT_N = 1_000_000
WEEKS = 20
THEMES = 60
SITES = {"Northwind": 3, "Meridian": 2, "Keystone": 2}
AGENTS_PER_SITE = 15
RETURN_SHARE = 0.12
TZ = ZoneInfo("UTC")


def synthetic_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """An analysis frame with the columns the scorecard reads (one row per contact)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-07-06", tz="UTC")
    firsts = int(n / (1 + RETURN_SHARE))
    seconds = np.sort(rng.uniform(0, WEEKS * 7 * 86_400, size=firsts))
    customers = rng.integers(0, max(1, n // 3), size=firsts)
    themes = rng.integers(0, THEMES, size=firsts)
    # returns: the same customer and theme 1-6 days later
    back = rng.random(firsts) < RETURN_SHARE
    ret_seconds = seconds[back] + rng.uniform(86_400, 6 * 86_400, size=back.sum())
    seconds = np.concatenate([seconds, ret_seconds])
    customers = np.concatenate([customers, customers[back]])
    themes = np.concatenate([themes, themes[back]])
    m = len(seconds)
    site_names = [f"{v}-{i}" for v, k in SITES.items() for i in range(k)]
    site = rng.integers(0, len(site_names), size=m)
    vendor_of = np.array([s.split("-")[0] for s in site_names], dtype=object)
    agent = site * AGENTS_PER_SITE + rng.integers(0, AGENTS_PER_SITE, size=m)
    csat = np.where(rng.random(m) < 0.33, rng.integers(1, 6, size=m).astype(float), np.nan)
    return pd.DataFrame(
        {
            "contact_id": [f"C{i:07d}" for i in range(m)],
            "customer_id": [f"U{c:07d}" for c in customers],
            "created_at": start + pd.to_timedelta(seconds, unit="s"),
            "theme_id": [f"T{t:04d}" for t in themes],
            "channel": rng.choice(np.array(["chat", "email", "phone"], dtype=object), size=m),
            "is_escalation": rng.random(m) < 0.08,
            "handle_time_s": np.round(rng.lognormal(6.0, 0.6, size=m)),
            "csat": csat,
            "vendor": vendor_of[site],
            "site": np.array(site_names, dtype=object)[site],
            "team": np.array(site_names, dtype=object)[site],
            "agent_id": [f"A{a:04d}" for a in agent],
        }
    )


#: Each step is run this many times; the table gives the fastest and the median (the
#: machine is shared: the median shows the contention, the fastest what the code costs).
REPEATS = 3


def timed(fn, *args, repeats: int = 1, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    """(result, (fastest wall, median wall, fastest CPU seconds of this process))."""
    walls, cpus = [], []
    for _ in range(repeats):
        began, cpu = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - cpu)
    return out, (min(walls), float(np.median(walls)), min(cpus))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=DEFAULT_N)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    frame, t_make = timed(synthetic_frame, args.n)
    marked, t_mark = timed(detect_repeats, frame)
    latest = marked["created_at"].max().to_pydatetime(warn=False)
    newest = period_of(latest, "week", TZ)
    rows = [("draw the frame", t_make), ("detect_repeats (once per snapshot)", t_mark)]
    for level in LEVELS:
        card, t = timed(scorecard, marked, level, repeats=REPEATS)
        rows.append((f"scorecard {level}, all {WEEKS} weeks ({len(card)} rows)", t))
    start, end = pd.Timestamp(newest.start), pd.Timestamp(newest.end)
    _, t = timed(scorecard, marked, "site", start=start, end=end, repeats=REPEATS)
    rows.append((f"scorecard site, newest week {newest.name}", t))
    cells, t = timed(shortfalls, marked, "site", repeats=REPEATS)
    rows.append((f"shortfalls site x theme ({len(cells)} flagged)", t))
    cells, t = timed(shortfalls, marked, "agent_id", repeats=REPEATS)
    rows.append((f"shortfalls agent x theme ({len(cells)} flagged)", t))
    for kind in ("week", "day"):
        period = period_of(latest, kind, TZ)
        config = SpikeConfig(baseline_periods=12 if kind == "week" else 56)
        (_, scores), t = timed(track, marked, "site", period, TZ, config, repeats=REPEATS)
        rows.append((f"tracking site per {kind} ({len(scores)} scores)", t))
    lines = [
        f"# Vendor scorecard benchmark ({len(frame):,} contacts)",
        "",
        f"`python -m experiments.bench_vendors {args.n}` on this machine (2 cores shared with "
        f"other jobs: load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the "
        "end); synthetic analysis frame (see the module docstring). CPU is this process's "
        "CPU time (BLAS threads included): what the step costs when it has the cores.",
        "",
        f"| step | wall, fastest of {REPEATS} (s) | wall, median (s) | CPU, fastest (s) |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {best:.2f} | {median:.2f} | {cpu:.2f} |"
            for name, (best, median, cpu) in rows
        ),  # fmt: skip
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "bench_vendors.md").write_text(text)


if __name__ == "__main__":
    main()
