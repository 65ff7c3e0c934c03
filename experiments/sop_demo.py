"""The demo's planted SOP changes measured back (issue 21, "Done when").

On a home built by `rca demo` (it plants three changes, `rca.demo.planted_sop`, and records them):
the effective change's estimate against its planted effect, the null change's intervals
against 0, and the market-scoped change inside its market against the same change measured
in the other markets. Appends a section to experiments/results/sop_demo.md.

    .venv/bin/python -m experiments.sop_demo --home .rca [--out experiments/results]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

from rca.queries.repeat_drivers import load_repeat_analysis
from rca.queries.sop_effects import load_changes, measure
from rca.settings import Settings
from rca.sop.follow import covered_themes


def _pts(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:+.1f}"


def _line(metric: str, e: dict) -> str:
    return (f"| {metric} | {e['verdict']} | {_pts(e['change'])} | {_pts(e['low'])} to "
            f"{_pts(e['high'])} | {e['before'] or 0:.3f} → {e['after'] or 0:.3f} | "
            f"{e['periods_before']}/{e['periods_after']} | {e['contacts_after']} |")  # fmt: skip


def run(home: Path) -> str:
    settings = Settings(home=home)
    manifest = json.loads((home / "demo" / "manifest.json").read_text(encoding="utf-8"))
    planted = {p["title"]: p for p in manifest["sop_changes"]}
    analysis = load_repeat_analysis(settings)
    changes, edges = load_changes(settings)
    out = [f"\n## Demo home: {manifest['config']['n_contacts']} contacts, seed "
           f"{manifest['config']['seed']}, {manifest['config']['weeks']} weeks\n"]  # fmt: skip
    header = ("| metric | verdict | change (pts) | 95 % interval (pts) | rate before → after | "
              "periods before/after | contacts after |\n|---|---|---|---|---|---|---|")  # fmt: skip
    verdicts = {}
    for change in changes:
        p = planted.get(change.title)
        if p is None:
            continue
        covered = covered_themes(change.theme_id, edges, analysis.themes["theme_id"])
        effects = measure(analysis, change, settings, covered=covered)["effects"]
        scope = p["scope"] or "all"
        out.append(f"### {p['kind']}: {change.title}\n\n{p['intent']} → theme "
                   f"{change.theme_id}, effective {p['effective']}, scope {scope}\n")  # fmt: skip
        out += [header] + [_line(m, e) for m, e in effects.items()] + [""]
        if p["kind"] == "effective":
            truth = p["truth_repeat_rate_after"]
            planted_pts = truth["with_change"] - truth["without_change"]
            e = effects["repeat rate"]
            inside = e["low"] is not None and e["low"] <= planted_pts <= e["high"]
            out.append(f"Planted: the intent's share of contacts that brought the customer back "
                       f"after the change, {truth['without_change']:.3f} without it → "
                       f"{truth['with_change']:.3f} with it ({_pts(planted_pts)} points). "
                       f"Within the estimate's interval: **{inside}**.\n")  # fmt: skip
            verdicts["effective within interval"] = inside
        elif p["kind"] == "null":
            covers = all(e["low"] is not None and e["low"] <= 0 <= e["high"]
                         for e in effects.values())  # fmt: skip
            out.append(f"Planted: no effect. Both intervals cover 0: **{covers}**.\n")
            verdicts["null covers 0"] = covers
        elif p["kind"] == "market":
            truth = p["truth_escalation_rate_in_market"]
            planted_pts = (p["factor"] - 1) * truth["before"]
            e = effects["escalation rate"]
            found = e["verdict"] == "improved"
            inside = e["low"] is not None and e["low"] <= planted_pts <= e["high"]
            out.append(f"Planted: escalations × {p['factor']} in {p['scope']} only (generated "
                       f"rate there {truth['before']:.3f} before, {truth['after']:.3f} after: "
                       f"about {_pts(planted_pts)} points). Found in its market (improved): "
                       f"**{found}**; planted points within the interval: "
                       f"**{inside}**.\n")  # fmt: skip
            verdicts["market found"] = found
            markets = sorted(set(analysis.marked["dim_market"].dropna()) - {p["scope"]["market"]})
            rows = []
            for m in markets:
                other = replace(change, scope={"market": m})
                o = measure(analysis, other, settings, covered=covered)["effects"]
                rows.append(_line(f"escalation rate, market {m}", o["escalation rate"]))
            unscoped = measure(analysis, replace(change, scope={}), settings, covered=covered)
            rows.append(
                _line("escalation rate, all markets", unscoped["effects"]["escalation rate"])
            )
            out += ["The same change measured elsewhere:\n", header, *rows, ""]
    out.append("Summary: " + ", ".join(f"{k}: {v}" for k, v in verdicts.items()) + "\n")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("experiments/results"))
    args = parser.parse_args()
    text = run(args.home)
    print(text)
    path = args.out / "sop_demo.md"
    if not path.exists():
        path.write_text("# The demo's planted SOP changes, measured back (issue 21)\n\n"
                        "Made by `python -m experiments.sop_demo --home HOME` on a home built by "
                        "`rca demo`.\n", encoding="utf-8")  # fmt: skip
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
