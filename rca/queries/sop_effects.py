"""Did an SOP change work? Its themes' repeat and escalation rates against the other themes.

Per period (the store's `RCA_PERIOD`), from the repeat analysis every command shares: the
theme's resolutions and the returns they brought (charged as in `rca drivers`), and its
contacts and escalations, beside the same counts for every other theme. The period that holds
the effective moment is neither before nor after and is left out. A change scoped to a market,
channel or vendor is measured inside that scope only, for the theme and its comparison alike.
A change recorded on a theme that a later refit merged or split is measured on what that theme
became (`rca.sop.follow`). A change recorded on several themes (or a parent group) is measured
on their union: the treated group is every contact of any of them (each followed through
refits), the comparison every other theme.

Also here: the SOP review queue (themes with high repeat or escalation rates and no change in
the last weeks, ranked by the repeat cost they carry) and the weekly e-mail's SOP digest.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from rca.periods import Period, periods_between
from rca.queries.repeat_drivers import RepeatAnalysis, load_repeat_analysis
from rca.repeats.detect import REPEAT
from rca.repeats.drivers import has_customer_ids, measured_components
from rca.settings import Settings
from rca.sop.effect import did_effect, not_measured
from rca.sop.follow import covered_by, lineage_edges
from rca.store import Store
from rca.store.sop import SopChange, audit_trail, get_change, lineage_rows, list_changes
from rca.trends.series import period_names
from rca.vendors.scorecard import BROUGHT_BACK, resolution_attempts

#: A theme needs this many contacts in the review window before its rates count as high.
REVIEW_MIN_CONTACTS = 20
SIGNIFICANT = ("improved", "worsened")


def load_changes(
    settings: Settings, *, include_retired: bool = False
) -> tuple[list[SopChange], dict[str, set[str]]]:
    """The recorded changes and the lineage edges they follow, in one read."""
    with Store(settings.store_path).read() as con:
        return list_changes(con, include_retired=include_retired), lineage_edges(lineage_rows(con))


def change_report(
    settings: Settings, change_id: str, *, analysis: RepeatAnalysis | None = None
) -> dict[str, Any]:
    """`rca sop show`: the change, its audit trail, the themes it covers now and its effects."""
    with Store(settings.store_path).read() as con:
        change = get_change(con, change_id)
        audit = audit_trail(con, change_id)
        edges = lineage_edges(lineage_rows(con))
    analysis = analysis or load_repeat_analysis(settings)
    return change_payload(analysis, change, audit, edges, settings)


def change_payload(
    analysis: RepeatAnalysis,
    change: SopChange,
    audit: list[dict[str, Any]],
    edges: dict[str, set[str]],
    settings: Settings,
) -> dict[str, Any]:
    covered = covered_by(change.theme_ids, edges, analysis.themes["theme_id"])
    measured = measure(analysis, change, settings, covered=covered)
    return {
        "change": change.as_dict(),
        "audit": audit,
        "covered_themes": covered,
        "effects": measured["effects"],
        "series": measured["series"],
    }


def change_effects(
    analysis: RepeatAnalysis,
    change: SopChange,
    settings: Settings,
    *,
    covered: list[str] | None = None,
    until: pd.Timestamp | None = None,
) -> dict[str, dict[str, Any]]:
    """Repeat rate and escalation rate of the change's theme(s), before vs after, against the
    other themes (`rca.sop.effect.did_effect`), with the data up to `until` (default all)."""
    return measure(analysis, change, settings, covered=covered, until=until)["effects"]


def unmeasured_rates(marked: pd.DataFrame) -> dict[str, str]:
    """The rates an SOP change cannot be measured on in this store, with what it lacks."""
    lacks = {}
    if not has_customer_ids(marked):
        lacks["repeat rate"] = (
            "no customer ids in this store (map a customer_id field to see repeats)"
        )
    if "escalation" not in measured_components(marked):
        lacks["escalation rate"] = (
            "the contacts carry no escalation flag (map an is_escalation field, docs/mapping.md)"
        )
    return lacks


def measure(
    analysis: RepeatAnalysis,
    change: SopChange,
    settings: Settings,
    *,
    covered: list[str] | None = None,
    until: pd.Timestamp | None = None,
) -> dict[str, Any]:
    """The effects and the per-period series behind them (theme vs other themes)."""
    themes = set(covered if covered is not None else change.theme_ids)
    marked = _in_scope(analysis.marked, change.scope)
    kind, tz = settings.period, settings.tz
    coverage = analysis.coverage
    periods = periods_between(coverage.first, coverage.newest, kind, tz)
    if until is not None:
        periods = [p for p in periods if pd.Timestamp(p.start) < until]
    names = [p.name for p in periods]
    effective = pd.Timestamp(change.effective_at)
    side = np.array(
        [1 if p.start >= effective else (0 if p.end <= effective else -1) for p in periods], int
    )
    change_at = int(np.argmax(side == 1)) if (side == 1).any() else len(periods)
    if until is not None:
        marked = marked.loc[pd.to_datetime(marked["created_at"], utc=True) < until]
    attempts = resolution_attempts(marked)
    closed = attempts.loc[attempts[BROUGHT_BACK].notna()]
    frames = {
        "repeat rate": (closed, "problem_theme_id", closed[BROUGHT_BACK]),
        "escalation rate": (
            marked,
            "theme_id",
            marked["is_escalation"].fillna(False).astype(float),
        ),
    }
    effects: dict[str, dict[str, Any]] = {}
    rates: dict[str, np.ndarray] = {}
    lacks = unmeasured_rates(marked)
    contacts = _per_period(marked, "theme_id", pd.Series(0.0, index=marked.index), themes,
                           names, kind, tz)[1]  # fmt: skip
    for metric, (rows, theme_column, outcome) in frames.items():
        if metric in lacks:  # no series either: a flat 0 % line would be a false reading
            effect = not_measured(
                metric, lacks[metric], periods_before=int((side == 0).sum()),
                periods_after=int((side == 1).sum()), contacts_after=int(contacts[side == 1].sum()),
            ).as_dict()  # fmt: skip
            effects[metric] = effect | {"contacts_before": int(contacts[side == 0].sum())}
            rates[metric] = rates[f"other {metric}"] = np.full(len(periods), np.nan)
            continue
        counts = _per_period(rows, theme_column, outcome, themes, names, kind, tz)
        with np.errstate(invalid="ignore", divide="ignore"):
            rates[metric] = counts[0] / counts[1]
            rates[f"other {metric}"] = counts[2] / counts[3]
        counts[:, side == -1] = 0  # the period holding the change is neither before nor after
        effect = did_effect(*counts, change_at, metric=metric).as_dict()
        effect["contacts_before"] = int(counts[1][side == 0].sum())
        effects[metric] = effect
    series = [
        {
            "period": p.name,
            "start": p.start,
            "side": {1: "after", 0: "before", -1: "change"}[int(s)],
            "contacts": int(c),
            **{m.replace(" ", "_"): _finite(r[i]) for m, r in rates.items()},
        }
        for i, (p, s, c) in enumerate(zip(periods, side, contacts, strict=True))
    ]
    return {"effects": effects, "series": series}


def changes_on_theme(
    changes: list[SopChange], edges: dict[str, set[str]], theme_id: str
) -> list[SopChange]:
    """The changes that cover `theme_id` today: recorded on it (alone or with others), or on a
    theme that became it."""
    return [c for c in changes if theme_id in covered_by(c.theme_ids, edges)]


def review_queue(
    analysis: RepeatAnalysis,
    changes: list[SopChange],
    edges: dict[str, set[str]],
    period: Period,
    settings: Settings,
    *,
    weeks: int,
    top: int,
) -> dict[str, Any]:
    """Themes whose repeat or escalation rate over the `weeks` up to the period's end is above
    the rate of all contacts and that no SOP change has touched in that time, ranked by the
    repeat cost they carry (agent hours on repeats, then repeat contacts)."""
    end = pd.Timestamp(period.end)
    start = end - timedelta(weeks=weeks)
    marked = analysis.marked
    created = pd.to_datetime(marked["created_at"], utc=True)
    window = marked.loc[(created >= start) & (created < end)]
    escalated = window["is_escalation"].fillna(False).astype(bool)
    repeat = window["repeat_status"] == REPEAT
    handle = window["handle_time_s"].astype(float) if "handle_time_s" in window else 0.0
    by_theme = pd.DataFrame(
        {"contacts": window.groupby("theme_id").size(),
         "escalations": escalated.groupby(window["theme_id"]).sum()}
    )  # fmt: skip
    repeats = pd.DataFrame(
        {
            "repeat_contacts": repeat.groupby(window["problem_theme_id"]).sum(),
            "repeat_hours": (
                pd.Series(handle, index=window.index)
                .where(repeat, 0.0)
                .groupby(window["problem_theme_id"])
                .sum()
                / 3600
            ),
        }  # fmt: skip
    )
    table = by_theme.join(repeats, how="left").fillna(0.0)
    total = max(len(window), 1)
    overall_repeat = float(repeat.sum()) / total
    overall_escalation = float(escalated.sum()) / total
    # absent is not zero: a rate the store cannot measure queues no theme and reads None
    lacks = unmeasured_rates(marked)
    has_repeats, has_escalations = "repeat rate" not in lacks, "escalation rate" not in lacks
    recent: dict[str, SopChange] = {}
    for change in changes:
        if start <= pd.Timestamp(change.effective_at) < end:
            for theme in covered_by(change.theme_ids, edges):
                recent[theme] = change
    labels = dict(zip(analysis.themes["theme_id"], analysis.themes["label"], strict=True))
    rows = []
    for theme_id, r in table.iterrows():
        if theme_id not in labels or r["contacts"] < REVIEW_MIN_CONTACTS or theme_id in recent:
            continue
        repeat_rate = r["repeat_contacts"] / r["contacts"]
        escalation_rate = r["escalations"] / r["contacts"]
        reasons = []
        if has_repeats and repeat_rate > overall_repeat:
            reasons.append(f"repeat rate {repeat_rate:.0%} against {overall_repeat:.0%} overall")
        if has_escalations and escalation_rate > overall_escalation:
            reasons.append(
                f"escalation rate {escalation_rate:.0%} against {overall_escalation:.0%} overall"
            )
        if not reasons:
            continue
        rows.append({
            "theme_id": theme_id, "label": labels[theme_id], "contacts": int(r["contacts"]),
            "repeat_contacts": int(r["repeat_contacts"]) if has_repeats else None,
            "repeat_rate": float(repeat_rate) if has_repeats else None,
            "escalations": int(r["escalations"]) if has_escalations else None,
            "escalation_rate": float(escalation_rate) if has_escalations else None,
            "repeat_hours": round(float(r["repeat_hours"]), 2), "why": "; ".join(reasons),
        })  # fmt: skip
    rows.sort(key=lambda r: (-r["repeat_hours"], -(r["repeat_contacts"] or 0), r["theme_id"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return {
        "period": period.name,
        "period_start": period.start,
        "period_end": period.end,
        "window_start": start.to_pydatetime(),
        "weeks": weeks,
        "overall_repeat_rate": overall_repeat if len(window) and has_repeats else None,
        "overall_escalation_rate": (
            overall_escalation if len(window) and has_escalations else None
        ),
        "themes_changed": sorted(recent),
        "queue": rows[:top],
        "note": "; ".join(
            ([] if len(window) else [f"no contacts in the {weeks} weeks up to {period.name}"])
            + [
                f"{metric} not measured, so no theme is queued for it: {why}"
                for metric, why in lacks.items()
            ]
        ),  # fmt: skip
    }


def sop_digest(
    analysis: RepeatAnalysis,
    changes: list[SopChange],
    edges: dict[str, set[str]],
    period: Period,
    settings: Settings,
    *,
    weeks: int,
) -> dict[str, list[dict[str, Any]]]:
    """For the weekly e-mail: effects that became significant with this period's data, and
    changes `weeks` or more old with no effect told apart from noise (to revise again)."""
    end = pd.Timestamp(period.end)
    current = analysis.themes["theme_id"]
    became, flat = [], []
    for change in changes:
        effective = pd.Timestamp(change.effective_at)
        if effective >= end:
            continue
        covered = covered_by(change.theme_ids, edges, current)
        now = change_effects(analysis, change, settings, covered=covered, until=end)
        before = change_effects(analysis, change, settings, covered=covered,
                                until=pd.Timestamp(period.start))  # fmt: skip
        row = {"change_id": change.change_id, "title": change.title, "theme_id": change.theme_id,
               "effective_at": change.effective_at}  # fmt: skip
        for metric, effect in now.items():
            if effect["verdict"] in SIGNIFICANT and before[metric]["verdict"] not in SIGNIFICANT:
                became.append({**row, "metric": metric, **_brief(effect)})
        old = end - effective >= timedelta(weeks=weeks)
        effect = now["repeat rate"]
        if (old and effect["verdict"] != "not_measured"
                and not any(e["verdict"] in SIGNIFICANT for e in now.values())):  # fmt: skip
            flat.append({**row, "metric": "repeat rate", "weeks": (end - effective).days // 7,
                         **_brief(effect)})  # fmt: skip
    return {"became_significant": became, "no_effect": flat}


def _brief(effect: dict[str, Any]) -> dict[str, Any]:
    keys = ("verdict", "change", "low", "high", "contacts_after", "sentence")
    return {k: effect[k] for k in keys}


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _in_scope(frame: pd.DataFrame, scope: dict[str, str]) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    for name, value in scope.items():
        column = name if name in frame else f"dim_{name}"
        if column in frame:
            keep &= frame[column].astype("string").str.lower() == str(value).lower()
    return frame.loc[keep]


def _per_period(
    rows: pd.DataFrame,
    theme_column: str,
    outcome: pd.Series,
    themes: set[str],
    names: list[str],
    kind: str,
    tz: Any,
) -> np.ndarray:
    """(theme events, theme total, other events, other total) per period, as a 4 x T array;
    the theme is the union of `themes` (a change that followed a split covers every part)."""
    if rows.empty or not names:
        return np.zeros((4, len(names)))
    period = period_names(pd.to_datetime(rows["created_at"], utc=True), kind, tz)
    mine = rows[theme_column].isin(themes).fillna(False).to_numpy(bool)
    frame = pd.DataFrame({"period": period.to_numpy(), "mine": mine, "y": outcome.to_numpy()})
    table = frame.groupby(["mine", "period"])["y"].agg(["sum", "size"])
    out = np.zeros((4, len(names)))
    for row, (flag, column) in enumerate(((True, "sum"), (True, "size"), (False, "sum"),
                                          (False, "size"))):  # fmt: skip
        if flag in table.index.get_level_values(0):
            out[row] = table.loc[flag, column].reindex(names, fill_value=0).to_numpy(float)
    return out
