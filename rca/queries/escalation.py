"""One escalation's deep dive: what it was, how typical, the customer's chain, why such cases
escalate, similar earlier escalations and how they were resolved, the SOP changes in force.

A partner-operations manager must complete a root-cause deep dive for every escalation; this
assembles the first draft from what the store already knows. Every text shown passes the
person-facing redaction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from rca.errors import NotFoundError
from rca.periods import Period
from rca.queries.repeat_drivers import RepeatAnalysis, cached_vectors, load_repeat_analysis
from rca.repeats.detect import REPEAT
from rca.repeats.drivers import measured_components
from rca.settings import Settings
from rca.sop.follow import covered_by, lineage_edges
from rca.store import Store
from rca.store.analysis import dimension_columns
from rca.store.sop import lineage_rows, list_changes
from rca.text.audience import RedactionPolicy
from rca.trends.rootcause import RootCauseConfig, explain

#: Similar earlier escalations listed.
SIMILAR = 5
UNASSIGNED = "\x00unassigned"  # a group key no theme id can be
CHAIN_COLUMNS = ["contact_id", "created_at", "theme_id", "repeat_status", "channel",
                 "is_escalation", "vendor", "site"]  # fmt: skip


def deep_dive(
    settings: Settings, contact_id: str, *, analysis: RepeatAnalysis | None = None
) -> dict[str, Any]:
    analysis = analysis or load_repeat_analysis(settings)
    marked = analysis.marked.reset_index(drop=True)
    hits = np.flatnonzero((marked["contact_id"] == contact_id).to_numpy())
    if not len(hits):
        raise NotFoundError(f"no contact {contact_id!r} in the store")
    i = int(hits[0])
    row = marked.iloc[i]
    people = RedactionPolicy.from_settings(settings, "people")
    theme = row["theme_id"] if pd.notna(row["theme_id"]) else None
    labels = dict(zip(analysis.themes["theme_id"], analysis.themes["label"], strict=True))
    members = (marked["theme_id"] == theme).fillna(False).to_numpy(bool) if theme else None
    typical = None
    if theme and pd.notna(row.get("similarity")):
        sims = marked.loc[members, "similarity"].dropna()
        typical = float((sims <= row["similarity"]).mean()) if len(sims) else None
    created = pd.to_datetime(marked["created_at"], utc=True)
    # the customer's chain: every contact of this customer, in order
    chain = pd.DataFrame(columns=CHAIN_COLUMNS)
    if pd.notna(row["customer_id"]):
        mine = marked.loc[marked["customer_id"] == row["customer_id"]].sort_values("created_at")
        chain = mine[[c for c in CHAIN_COLUMNS if c in mine]]
    # what over-explains this theme's escalations (the root-cause step, escalated vs not)
    why = None
    if theme is not None:
        in_theme = marked.loc[members]
        escalated = in_theme["is_escalation"].fillna(False).astype(bool)
        dims = [d for d in ["channel", *dimension_columns(in_theme)]
                if in_theme[d].replace("", np.nan).nunique() >= 2]  # fmt: skip
        if escalated.sum() and (~escalated).sum() and dims:
            why = explain(
                in_theme.loc[escalated], dims, baseline=in_theme.loc[~escalated],
                config=RootCauseConfig.from_settings(settings),
                subject="this theme's escalations (against its other contacts)",
            ).as_dict()  # fmt: skip
    similar = _similar_escalations(settings, analysis, marked, i, created)
    with Store(settings.store_path).read() as con:
        changes = list_changes(con) if theme else []
        edges = lineage_edges(lineage_rows(con))
    # recorded on this theme, or on one a refit merged into it or split it from
    in_force = [
        c.as_dict()
        for c in changes
        if theme in covered_by(c.theme_ids, edges) and c.effective_at <= row["created_at"]
    ]
    return {
        "contact": {
            "contact_id": contact_id,
            "created_at": row["created_at"],
            "channel": _known(row.get("channel")),
            # an export without an escalation flag (CFPB's) has none to report: bool(NA) was a
            # 500 on every deep dive of such a store
            "is_escalation": None
            if (flag := _known(row.get("is_escalation"))) is None
            else bool(flag),
            "text": people.redact([str(row["text"])])[0],
            "resolution": people.redact([str(row["resolution"])])[0]
            if pd.notna(row.get("resolution"))
            else None,
        },  # fmt: skip
        "theme": {"theme_id": theme, "label": labels.get(theme), "typicality": typical},
        "chain": chain.astype(object).where(chain.notna(), None).to_dict(orient="records"),
        # absent is not zero: without a flag the page says so, not "too few escalations"
        "escalation_flag": "escalation" in measured_components(marked),
        "why_escalations": why,
        "similar_escalations": similar,
        "sop_changes_in_force": in_force,
    }


def _known(value: Any) -> Any:
    """A stored value, or None where the export had none (NA, NaN)."""
    return None if value is None or pd.isna(value) else value


def _similar_escalations(
    settings: Settings,
    analysis: RepeatAnalysis,
    marked: pd.DataFrame,
    i: int,
    created: pd.Series,
) -> list[dict[str, Any]]:
    """The earlier escalations closest in meaning, with how each was resolved: among those
    with a resolution note when there are enough (how it was resolved is the point), else
    among all."""
    earlier = marked["is_escalation"].fillna(False).astype(bool) & (created < created.iloc[i])
    noted = earlier & marked["resolution"].fillna("").astype(str).str.strip().ne("")
    if noted.sum() >= SIMILAR:
        earlier = noted
    rows = np.r_[i, np.flatnonzero(earlier.to_numpy())]
    if len(rows) < 2:
        return []
    with Store(settings.store_path).read() as con:
        found = cached_vectors(con, analysis.model_id, marked["text_hash"], rows)
    if found is None or found[0][0] != i:
        return []
    have, vectors = found
    scores = vectors[1:] @ vectors[0]
    order = np.argsort(-scores)[:SIMILAR]
    people = RedactionPolicy.from_settings(settings, "people")
    picked = marked.iloc[have[1:][order]]
    texts = people.redact(picked["text"].astype(str).tolist())
    notes = people.redact(picked["resolution"].fillna("").astype(str).tolist())
    return [
        {"contact_id": r.contact_id, "created_at": r.created_at, "theme_id": r.theme_id,
         "similarity": round(float(s), 4), "text": t, "resolution": n or None}
        for r, s, t, n in zip(picked.itertuples(), scores[order], texts, notes, strict=True)
    ]  # fmt: skip


#: What a store without an escalation flag says instead of a count.
NO_ESCALATION_FLAG = (
    "the contacts carry no escalation flag: map an is_escalation field (docs/mapping.md) to see "
    "escalations"
)


def _rate_interval(escalations: int, contacts: int) -> dict[str, float | None]:
    """The escalation rate's 95 % interval: "50 %" of a theme's 4 contacts is anywhere from
    10 % to 90 %, and a manager reading the rate should see that. Wilson's score interval with
    a continuity correction (scipy's `binomtest(...).proportion_ci`): simulated at 8, 30 and 200
    contacts and rates of 2-30 %, plain Wilson held the true rate 85 % of the time at 8 contacts
    and 2 %; corrected, 95.5-98.9 % (tests/test_sop_api.py)."""
    if not contacts:
        return {"escalation_rate_low": None, "escalation_rate_high": None}
    ci = binomtest(escalations, contacts).proportion_ci(confidence_level=0.95, method="wilsoncc")
    return {"escalation_rate_low": float(ci.low), "escalation_rate_high": float(ci.high)}


def period_escalations(
    analysis: RepeatAnalysis, period: Period, *, per_theme: int = 5
) -> dict[str, Any]:
    """The period's escalations grouped by theme, most costly first (agent hours, then count),
    each group with its latest escalations (ids and dates only: the deep dive shows the text).

    Absent is not zero: where no contact carries an escalation flag (the CFPB export),
    ``escalations`` is None and the note says how to map one; the page read "0 escalations of
    53 contacts" for such a store."""
    marked = analysis.marked
    created = pd.to_datetime(marked["created_at"], utc=True)
    inside = (created >= pd.Timestamp(period.start)) & (created < pd.Timestamp(period.end))
    if "escalation" not in measured_components(marked):
        return {
            "period": period.name, "period_start": period.start, "period_end": period.end,
            "contacts": int(inside.sum()), "escalations": None, "themes": [],
            "note": NO_ESCALATION_FLAG,
        }  # fmt: skip
    rows = marked.loc[inside & marked["is_escalation"].fillna(False).astype(bool)]
    labels = dict(zip(analysis.themes["theme_id"], analysis.themes["label"], strict=True))
    contacts = int(inside.sum())
    groups = []
    theme = rows["theme_id"].astype(object).where(rows["theme_id"].notna(), None)
    for theme_id, group in rows.groupby(theme.fillna(UNASSIGNED), sort=False):
        hours = group["handle_time_s"].astype(float).sum() / 3600 if "handle_time_s" in group else 0
        repeat = (group["repeat_status"] == REPEAT).sum() if "repeat_status" in group else 0
        latest = group.sort_values("created_at", ascending=False).head(per_theme)
        in_theme = int((marked.loc[inside, "theme_id"] == theme_id).sum())
        groups.append({
            "theme_id": None if theme_id == UNASSIGNED else theme_id,
            "label": labels.get(theme_id, "unassigned"),
            "escalations": len(group),
            "contacts": in_theme,
            "escalation_rate": len(group) / in_theme if in_theme else None,
            **_rate_interval(len(group), in_theme),
            "handle_hours": round(float(hours), 2),
            "repeat_escalations": int(repeat),
            "with_resolution": int(group["resolution"].fillna("").astype(str).ne("").sum())
            if "resolution" in group else 0,
            "latest": [
                {"contact_id": r.contact_id, "created_at": r.created_at,
                 "channel": getattr(r, "channel", None)}
                for r in latest.itertuples()
            ],
        })  # fmt: skip
    groups.sort(key=lambda g: (-g["handle_hours"], -g["escalations"], str(g["theme_id"])))
    note = ""
    if not contacts:
        note = f"no contacts in {period.name}"
    elif rows.empty:
        note = f"no escalations in {period.name}"
    return {
        "period": period.name,
        "period_start": period.start,
        "period_end": period.end,
        "contacts": contacts,
        "escalations": len(rows),
        "themes": groups,
        "note": note,
    }
