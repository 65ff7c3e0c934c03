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

import pandas as pd

from rca.queries.repeat_drivers import load_repeat_analysis
from rca.queries.sop_effects import load_changes, measure
from rca.settings import Settings
from rca.sop.follow import covered_by


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
    truth = pd.read_csv(home / "demo" / "truth.csv", dtype=str, keep_default_na=False)
    intent_of = analysis.marked[["contact_id", "theme_id"]].merge(truth, on="contact_id")
    for change in changes:
        p = planted.get(change.title)
        if p is None:
            continue
        covered = covered_by(change.theme_ids, edges, analysis.themes["theme_id"])
        effects = measure(analysis, change, settings, covered=covered)["effects"]
        scope = p["scope"] or "all"
        out.append(f"### {p['kind']}: {change.title}\n\n{p['intent']} → themes "
                   f"{', '.join(change.theme_ids)} (measured on {', '.join(covered)} "
                   f"together), effective {p['effective']}, scope {scope}\n")  # fmt: skip
        spread = intent_of.loc[intent_of["intent"] == p["intent"], "theme_id"].value_counts()
        out.append(f"The intent's {int(spread.sum())} contacts by theme: " + ", ".join(
            f"{t} {n}" for t, n in spread.head(6).items()) + "\n")  # fmt: skip
        out += [header] + [_line(m, e) for m, e in effects.items()] + [""]
        if p["kind"] == "effective":
            truth = p["truth_repeat_rate_after"]
            without = truth["without_change"]
            factor = truth["with_change"] / without if without else 1.0
            e = effects["repeat rate"]
            # the plant is a factor; the estimate is in points at the theme's rate before
            planted_pts = (factor - 1) * (e["before"] or 0.0)
            inside = e["low"] is not None and e["low"] <= planted_pts <= e["high"]
            out.append(f"Planted: the intent's share of contacts after the change that brought "
                       f"the customer back, {truth['without_change']:.3f} without it → "
                       f"{truth['with_change']:.3f} with it (× {factor:.2f}), i.e. "
                       f"{_pts(planted_pts)} points at the theme's measured rate before "
                       f"({e['before']:.3f}). Within the estimate's interval: **{inside}**; "
                       f"verdict {e['verdict']}.\n")  # fmt: skip
            verdicts["effective within interval"] = inside
        elif p["kind"] == "null":
            covers = all(e["low"] is not None and e["low"] <= 0 <= e["high"]
                         for e in effects.values())  # fmt: skip
            out.append(f"Planted: no effect. Both intervals cover 0: **{covers}**.\n")
            verdicts["null covers 0"] = covers
        elif p["kind"] == "market":
            truth = p["truth_escalation_rate_in_market"]
            e = effects["escalation rate"]
            planted_pts = (p["factor"] - 1) * (e["before"] or 0.0)
            found = e["verdict"] == "improved"
            inside = e["low"] is not None and e["low"] <= planted_pts <= e["high"]
            out.append(f"Planted: escalations × {p['factor']} in {p['scope']} only (generated "
                       f"rate there {truth['before']:.3f} before, {truth['after']:.3f} after; "
                       f"{_pts(planted_pts)} points at the theme's measured rate before). Found "
                       f"in its market (improved): "
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
    out += _deep_dive(settings, analysis, home, verdicts)
    out.append("Summary: " + ", ".join(f"{k}: {v}" for k, v in verdicts.items()) + "\n")
    return "\n".join(out)


def _deep_dive(settings: Settings, analysis, home: Path, verdicts: dict) -> list[str]:
    """The deep dive of the newest planted repeat escalation (the second or later contact of
    a generated repeat chain): its chain, what over-explains its theme's escalations, and
    similar earlier escalations with resolution notes."""
    from rca.queries.escalation import deep_dive

    truth = pd.read_csv(home / "demo" / "truth.csv", dtype=str, keep_default_na=False)
    market = next(p for p in json.loads((home / "demo" / "manifest.json").read_text())
                  ["sop_changes"] if p["kind"] == "market")  # fmt: skip
    # a planted escalation: a repeat in a generated chain of the intent with planted
    # escalation effects (the market-scoped change), the newest one
    chained = (truth["chain_pos"].astype(int) >= 2) & (truth["intent"] == market["intent"])
    in_chain = set(truth.loc[chained, "contact_id"])
    marked = analysis.marked
    escalated = marked.loc[marked["is_escalation"].fillna(False).astype(bool)
                           & marked["contact_id"].isin(in_chain)]  # fmt: skip
    one = escalated.sort_values("created_at").iloc[-1]["contact_id"]
    dive = deep_dive(settings, one, analysis=analysis)
    why = dive["why_escalations"] or {"sentence": "none", "explanations": []}
    similar = dive["similar_escalations"]
    noted = [s for s in similar if s["resolution"]]
    verdicts["deep dive: chain, attributes, >= 3 similar with resolutions"] = bool(
        len(dive["chain"]) >= 2 and why["explanations"] and len(noted) >= 3
    )
    lines = [f"### Deep dive of planted repeat escalation {one}\n",
             f"- theme {dive['theme']['theme_id']} ({dive['theme']['label']}), typicality "
             f"{dive['theme']['typicality']:.2f}",
             f"- chain: {len(dive['chain'])} contacts: " + "; ".join(
                 f"{c['contact_id']} {str(c['created_at'])[:10]} {c['repeat_status']} "
                 f"{c.get('vendor') or ''}/{c.get('site') or ''}" for c in dive["chain"]),
             f"- over-represented among the theme's escalations: {why['sentence']}",
             f"- similar earlier escalations: {len(similar)}, with a resolution note: "
             f"{len(noted)} ({'; '.join(s['resolution'] for s in noted[:3])})",
             f"- SOP changes in force: {[c['title'] for c in dive['sop_changes_in_force']]}",
             ""]  # fmt: skip
    return lines


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
