"""The vendor scorecard's "done when" on a demo home: the planted truths against what rca says.

    rca demo --no-serve --home /tmp/demo-home
    python -m experiments.vendor_demo /tmp/demo-home [--out experiments/results]

Reads the demo's manifest (`demo/manifest.json` in the home) and checks, through the same
payloads `rca vendors` prints:
1. the planted weak site is flagged on the planted theme (`shortfalls`, site level, every
   complete week: a week holds too few of one site's resolutions of one problem to tell);
2. the hard-mix vendor is flagged by the raw repeat rate and not by the adjusted one;
3. the AHT jump is alerted in its week (`rca vendors --alerts`, site level, every week), and how
   many other alerts tracking raised over all weeks (and over the last 42 days, per day).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from rca.queries.repeat_drivers import load_repeat_analysis
from rca.queries.vendor_scorecard import vendor_alerts_payload, vendors_payload
from rca.settings import Settings

SCORECARD_COLUMNS = ["contacts", "resolutions", "repeat_rate", "repeat_raw_ratio",
                     "repeat_raw_flag", "repeat_ratio", "repeat_ratio_low", "repeat_ratio_high",
                     "repeat_flag", "repeat_shrunk_ratio"]  # fmt: skip
DAYS = 42


def _table(rows: list[dict], columns: list[str]) -> list[str]:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3f}"
        return "" if v is None else str(v)

    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("home", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings(home=args.home)
    truth = json.loads((args.home / "demo" / "manifest.json").read_text())["vendors"]
    analysis = load_repeat_analysis(settings)
    labels = dict(zip(analysis.themes["theme_id"], analysis.themes["label"], strict=True))
    weeks = [p.name for p in analysis.periods]
    complete = weeks[:-1]  # the newest week is partial and its repeat windows are open
    span = len(complete)
    lines = [
        "# Vendor scorecard on the demo: planted truths against what `rca vendors` says",
        "",
        f"`python -m experiments.vendor_demo HOME` on a `rca demo --no-serve` home "
        f"({len(analysis.marked):,} contacts, weeks {weeks[0]}..{weeks[-1]}, model "
        f"{analysis.model_version}). Planted (manifest): {json.dumps(truth)}",
        "",
    ]
    checks = []
    by = {}
    for level in ("vendor", "site"):
        answer = vendors_payload(settings, period=complete[-1], level=level, span=span,
                                 analysis=analysis)  # fmt: skip
        by[level] = answer
        lines += [
            f"## `rca vendors --level {level} --period {complete[-1]} --span {span}`",
            "",
            *_table(answer["handlers"], [level, *SCORECARD_COLUMNS]),
            "",
        ]
    cells = by["site"]["shortfalls"]
    lines += ["Shortfalls (site x theme, flagged after Holm):", ""]
    lines += _table(
        [{**c, "label": labels.get(c["problem_theme_id"])} for c in cells],
        ["site", "problem_theme_id", "label", "resolutions", "returned", "expected", "ratio",
         "ratio_low", "ratio_high", "q_value"],
    )  # fmt: skip
    # the planted intent's theme: the fitted theme most of that intent's contacts went to
    demo_truth = pd.read_csv(args.home / "demo" / "truth.csv", usecols=["contact_id", "intent"])
    joined = analysis.marked[["contact_id", "theme_id"]].merge(demo_truth, on="contact_id")
    weak = truth["weak_site"]
    planted_theme = joined.loc[joined["intent"] == weak["intent"], "theme_id"].mode().iloc[0]
    found = [(c["site"], c["problem_theme_id"]) for c in cells]
    checks.append((
        f"weak site {weak['site']} flagged on the planted theme {planted_theme} "
        f"({labels.get(planted_theme)}, the fitted theme of {weak['intent']})",
        (weak["site"], planted_theme) in found,
    ))  # fmt: skip
    checks.append((f"shortfall cells flagged that were not planted: {len(found) - 1}",
                   len(found) == 1))  # fmt: skip
    hard = truth["hard_mix_vendor"]["vendor"]
    row = next(h for h in by["vendor"]["handlers"] if h["vendor"] == hard)
    checks.append(
        (
            f"hard-mix vendor {hard} flagged by the raw rate "
            f"(raw O/E {row['repeat_raw_ratio']:.3f})",
            row["repeat_raw_flag"] == "high",
        )
    )
    checks.append((f"... and not by the adjusted one (O/E {row['repeat_ratio']:.3f}, "
                   f"{row['repeat_ratio_low']:.3f}-{row['repeat_ratio_high']:.3f})",
                   row["repeat_flag"] == ""))  # fmt: skip
    jump = truth["aht_jump"]
    alerts, scored = [], 0
    for week in weeks:
        tracked = vendor_alerts_payload(settings, period=week, level="site", analysis=analysis)
        scored += tracked["scored"]
        alerts += [{**a, "period": week} for a in tracked["alerts"]]
    jump_week = next(p.name for p in analysis.periods
                     if p.start.date().isoformat() == jump["week"]["start"])  # fmt: skip
    hit = [a for a in alerts if (a["site"], a["metric"], a["period"])
           == (jump["site"], "aht", jump_week)]  # fmt: skip
    false = [a for a in alerts if a not in hit]
    checks.append((f"AHT jump of {jump['site']} alerted in its week {jump_week}", bool(hit)))
    lines += [
        "",
        f"## `rca vendors --alerts --level site --period W` for every week ({len(weeks)} weeks, "
        f"{scored} handler x metric scores)",
        "",
        f"{len(alerts)} alerts: {len(hit)} true (the planted jump), {len(false)} other.",
        "",
        *_table(
            alerts,
            [
                "period",
                "site",
                "metric",
                "observed",
                "expected",
                "ratio",
                "q_value",
                "severity",
                "method",
            ],
        ),  # fmt: skip
    ]
    last = analysis.marked["created_at"].max()
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range(end=last.normalize(), periods=DAYS)]
    day_alerts, day_scored = [], 0
    for day in days:
        tracked = vendor_alerts_payload(settings, period=day, level="site", analysis=analysis)
        day_scored += tracked["scored"]
        day_alerts += [{**a, "period": day} for a in tracked["alerts"]]
    in_jump = [a for a in day_alerts if a["site"] == jump["site"] and a["metric"] == "aht"
               and jump["week"]["start"] <= a["period"] <= jump["week"]["end"]]  # fmt: skip
    lines += [
        "",
        f"## Per day, the last {DAYS} days ({day_scored} scores)",
        "",
        f"{len(day_alerts)} alerts: {len(in_jump)} on the planted site's AHT in its week "
        f"(7 days), {len(day_alerts) - len(in_jump)} other.",
        "",
        *_table(day_alerts, ["period", "site", "metric", "ratio", "q_value", "severity"]),
        "",
        "## Checks",
        "",
        *(f"- {'PASS' if ok else 'FAIL'}: {text}" for text, ok in checks),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "vendor_demo.md").write_text(text)


if __name__ == "__main__":
    main()
