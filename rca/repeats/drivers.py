"""Repeat figures per theme and period, and the ranking of themes by the repeats they cause.

A program manager fixes first the problem that brings the most customers back, often, with
escalations and agent time attached, and getting worse. The driver score says exactly that:

    score = (w_volume * V + w_rate * R + w_escalation * E + w_handle_time * H + w_growth * G)
            / (w_volume + w_rate + w_escalation + w_handle_time + w_growth)

where, for each theme in the period, relative to the period's largest value over all themes
(so each term lies in [0, 1] and so does the score):

- V = repeat contacts,
- R = repeat rate over the trend window (the last `driver_trend_periods` periods ending at the
  period: how often the problem brings customers back is a property of the problem, and one
  week of a small theme is noise), shrunk towards the overall rate as
  (repeats + k * overall) / (contacts + k) with k = `driver_rate_prior_contacts`, so that a
  theme with 2 contacts and 1 repeat does not outrank a theme with 300 repeats,
- E = escalated repeat contacts,
- H = handle time spent on repeat contacts,
- G = growth of repeat contacts on the previous period, as the log2 of the lower
  `GROWTH_CONFIDENCE` (90 %) bound of the ratio now / before (`growth_lower_bound`), counted
  only when positive: a theme going from 0 to 1 contact has not grown by any amount one can
  tell (on the CFPB export such a theme outranked steady 8-contact themes on growth alone),
  while 20 -> 60 has.

Weights default to 0.35 / 0.25 / 0.15 / 0.15 / 0.10 (Settings `driver_weight_*`). Repeats are
counted against the theme of the chain's first contact (`problem_theme_id`), see
`rca.repeats.detect`. Spike status and root-cause sentences come from the caller as a mapping (the
spike module is optional), never imported here.

Pure: frames in, frames and dicts out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import beta

from rca.periods import Period
from rca.repeats.detect import CONTINUATION, EXCLUDED, FIRST, REPEAT
from rca.settings import Settings
from rca.text.counted import counted
from rca.trends.coverage import WHOLE_PERIOD_BEFORE

UNASSIGNED = "unassigned"
COMPONENTS = ("volume", "rate", "escalation", "handle_time", "growth")
#: What each component counts. Without customer ids no repeat can be seen, so the ranking falls
#: back to what the store does hold (all contacts, escalations, handle time, growth) rather
#: than ranking every theme at score 0; the repeat rate then has no weight.
BASIS_COLUMNS = {
    "repeats": {
        "volume": "repeat_contacts",
        "escalation": "escalated_repeats",
        "handle_time": "repeat_handle_time_s",
    },
    "contacts": {
        "volume": "contacts",
        "escalation": "escalated",
        "handle_time": "handle_time_s_total",
    },
}
#: Components whose fields an export may lack: a store without them (no escalation flag, no
#: handle time, as in the CFPB export) neither scores nor reports them, rather than counting
#: every theme's zero. See `measured_components`.
OPTIONAL_COMPONENTS = {"escalation": "is_escalation", "handle_time": "handle_time_s"}
#: Figures a store cannot fill without customer ids or an optional field: null in the JSON, not
#: 0 (absent is not zero; the themes list does the same, `theme_figures.not_measured`). Without
#: customer ids every contact is `no_customer`, so no first contact, repeat or continuation.
UNMEASURED_FIGURES = {
    "customers": (
        "first_contacts", "repeat_contacts", "continuations", "repeat_rate",
        "customers_2plus_repeats", "escalated_repeats", "repeat_handle_time_s",
        "one_and_done_rate", "pending_first_contacts", "repeat_rate_trailing",
        "previous_repeat_contacts", "repeat_growth",
    ),
    "escalation": ("escalated", "escalation_rate", "escalated_repeats"),
    "handle_time": ("handle_time_s_total", "handle_time_s_avg", "repeat_handle_time_s"),
}  # fmt: skip
#: The period totals (`repeat_summary` and the rate) that need customer ids.
UNMEASURED_TOTALS = (
    "first", "repeat", "continuation", "chains", "open_windows", "repeat_rate",
    "unassigned_repeat_contacts",
)  # fmt: skip
#: One-sided confidence of the growth term's lower bound. Two Poisson counts with the same rate
#: score growth > 0 at most 10 % of the time (tests/test_drivers.py simulates it).
GROWTH_CONFIDENCE = 0.90
#: Repeat contacts this far (relative) above / below the earlier periods' mean: rising / falling.
TREND_BAND = 0.15
SECONDS_PER_HOUR = 3600.0

FIGURE_COLUMNS = [
    "contacts",
    "first_contacts",
    "repeat_contacts",
    "continuations",
    "repeat_rate",
    "customers_2plus_repeats",
    "escalated",
    "escalation_rate",
    "escalated_repeats",
    "handle_time_s_total",
    "handle_time_s_avg",
    "repeat_handle_time_s",
    "one_and_done_rate",
    "pending_first_contacts",
]


COUNT_COLUMNS = (
    "contacts",
    "first_contacts",
    "repeat_contacts",
    "continuations",
    "escalated",
    "escalated_repeats",
    "customers_2plus_repeats",
    "pending_first_contacts",
)


@dataclass(frozen=True)
class DriverWeights:
    """Weights of the driver score's five terms and the rate's shrinkage strength."""

    volume: float
    rate: float
    escalation: float
    handle_time: float
    growth: float
    rate_prior_contacts: float

    @classmethod
    def from_settings(cls, settings: Settings) -> DriverWeights:
        return cls(
            volume=settings.driver_weight_volume,
            rate=settings.driver_weight_rate,
            escalation=settings.driver_weight_escalation,
            handle_time=settings.driver_weight_handle_time,
            growth=settings.driver_weight_growth,
            rate_prior_contacts=settings.driver_rate_prior_contacts,
        )

    def as_dict(self) -> dict[str, float]:
        return {c: getattr(self, c) for c in COMPONENTS}


def default_weights() -> DriverWeights:
    """The documented defaults, without reading the environment."""
    return DriverWeights.from_settings(Settings.model_construct())


def period_index(created_at: pd.Series, periods: Sequence[Period]) -> np.ndarray:
    """Index into `periods` (sorted, contiguous) of each timestamp; -1 outside them all."""
    if not periods:
        return np.full(len(created_at), -1)
    stamps = pd.to_datetime(created_at, utc=True).dt.as_unit("ns").astype("int64").to_numpy()
    starts = np.array([pd.Timestamp(p.start).as_unit("ns").value for p in periods])
    end = pd.Timestamp(periods[-1].end).as_unit("ns").value
    idx = np.searchsorted(starts, stamps, side="right") - 1
    return np.where((idx >= 0) & (stamps < end), idx, -1)


def theme_period_figures(
    marked: pd.DataFrame, periods: Sequence[Period], *, window_days: float | None = None
) -> pd.DataFrame:
    """Repeat figures per (period, theme) from `rca.repeats.detect.detect_repeats` output.

    A theme is the contact's problem theme (None becomes "unassigned"); every period x theme
    with contacts gets a row. `incomplete` marks a period whose last repeat window runs past
    `as_of`: its contacts' repeats may not have happened yet, so its one-and-done rate is over
    the first contacts whose window closed (`pending_first_contacts` are left out).
    """
    if window_days is None:
        rules = marked.attrs.get("repeat_rules")
        window_days = rules.window.total_seconds() / 86_400 if rules else 7.0
    frame = pd.DataFrame(
        {
            "period_idx": period_index(marked["created_at"], periods),
            "theme_id": marked["problem_theme_id"]
            .astype(object)
            .where(marked["problem_theme_id"].notna(), UNASSIGNED),
            "status": marked["repeat_status"].to_numpy(),
            "customer_id": marked["customer_id"].to_numpy(),
            "escalated": marked["is_escalation"].fillna(False).astype(bool).to_numpy()
            if "is_escalation" in marked
            else False,
            "handle": marked["handle_time_s"].astype(float).to_numpy()
            if "handle_time_s" in marked
            else np.nan,
            "in_chain": marked["chain_id"].notna().to_numpy(),
            "closed": marked["window_closed"].to_numpy(dtype=bool),
        }
    )
    # small talk and flagged accounts are neither attempts nor repeats: out of every rate
    frame = frame.loc[(frame["period_idx"] >= 0) & ~frame["status"].isin(EXCLUDED)]
    repeat = frame["status"] == REPEAT
    first = frame["status"] == FIRST
    frame = frame.assign(
        is_repeat=repeat,
        is_first=first,
        is_cont=frame["status"] == CONTINUATION,
        esc_repeat=repeat & frame["escalated"],
        repeat_handle=frame["handle"].where(repeat, 0.0),
        done=first & frame["closed"] & ~frame["in_chain"],
        judged=first & frame["closed"],
        pending=first & ~frame["closed"] & ~frame["in_chain"],
    )
    keys = ["period_idx", "theme_id"]
    out = frame.groupby(keys).agg(
        contacts=("status", "size"),
        first_contacts=("is_first", "sum"),
        repeat_contacts=("is_repeat", "sum"),
        continuations=("is_cont", "sum"),
        escalated=("escalated", "sum"),
        escalated_repeats=("esc_repeat", "sum"),
        handle_time_s_total=("handle", "sum"),
        handle_time_s_avg=("handle", "mean"),
        repeat_handle_time_s=("repeat_handle", "sum"),
        done=("done", "sum"),
        judged=("judged", "sum"),
        pending_first_contacts=("pending", "sum"),
    )
    per_customer = frame.loc[repeat].groupby([*keys, "customer_id"]).size()
    out["customers_2plus_repeats"] = (
        (per_customer >= 2).groupby(level=keys).sum().reindex(out.index, fill_value=0)
    )
    out["repeat_rate"] = out["repeat_contacts"] / out["contacts"]
    out["escalation_rate"] = out["escalated"] / out["contacts"]
    out["one_and_done_rate"] = out["done"] / out["judged"].where(out["judged"] > 0)
    out = out.reset_index()
    as_of = marked.attrs.get("as_of")
    window = pd.Timedelta(days=window_days)
    ends = [pd.Timestamp(p.end) for p in periods]
    out["period"] = [periods[i].name for i in out["period_idx"]]
    out["incomplete"] = [
        bool(as_of is not None and ends[i] + window > pd.Timestamp(as_of))
        for i in out["period_idx"]
    ]
    for column in COUNT_COLUMNS:
        out[column] = out[column].astype(np.int64)
    return out[["period_idx", "period", "theme_id", *FIGURE_COLUMNS, "incomplete"]]


def growth_lower_bound(now: np.ndarray, before: np.ndarray, confidence: float) -> np.ndarray:
    """Lower `confidence` bound of the rate ratio now / before of two Poisson counts.

    Conditional on the total n = now + before, now is binomial with p = ratio / (1 + ratio),
    so the exact (Clopper-Pearson) lower bound of p gives the ratio's (the standard test for
    comparing two Poisson rates; scipy's beta quantile). 0 when now is 0, and finite when
    before is 0 (the bound then grows with now: 1 contact out of none tells little, 40 a lot).
    """
    now = np.asarray(now, dtype=np.float64)
    before = np.asarray(before, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        p_low = np.where(now > 0, beta.ppf(1.0 - confidence, now, before + 1.0), 0.0)
    return p_low / np.maximum(1.0 - p_low, 1e-12)


def _relative(values: pd.Series) -> pd.Series:
    top = values.max()
    return values / top if top and top > 0 else values * 0.0


def _trend_direction(history: Sequence[int]) -> str:
    """rising / falling / steady / new / none, from the last value against the earlier mean."""
    if not any(history):
        return "none"
    *earlier, now = history
    base = float(np.mean(earlier)) if earlier else 0.0
    if base == 0:
        return "new" if now > 0 else "none"
    change = now / base - 1
    return "rising" if change > TREND_BAND else "falling" if change < -TREND_BAND else "steady"


def has_customer_ids(marked: pd.DataFrame) -> bool:
    """Whether any contact carries a customer id: without one nothing is a repeat, and every
    surface says so rather than reading zero repeats."""
    return "customer_id" in marked and bool(marked["customer_id"].notna().any())


def measured_components(marked: pd.DataFrame) -> frozenset[str]:
    """The optional components the contacts carry a value for (OPTIONAL_COMPONENTS)."""
    return frozenset(
        c for c, col in OPTIONAL_COMPONENTS.items() if col in marked and marked[col].notna().any()
    )


def scored_components(
    basis: str, measured: Collection[str] = tuple(OPTIONAL_COMPONENTS)
) -> list[str]:
    """The COMPONENTS that weigh in the score: no repeat rate without customer ids, no
    optional component the store does not measure."""
    return [
        c
        for c in COMPONENTS
        if (basis == "repeats" or c != "rate") and (c not in OPTIONAL_COMPONENTS or c in measured)
    ]


def component_ceilings(weights: Mapping[str, float], scored: Collection[str]) -> dict[str, float]:
    """The most each scored component can add to a score: its weight over the scored ones' sum.

    The score is the weighted mean of the components a store measures, so without customer ids,
    escalations or handle time the volume's share grows (0.35 of 0.45: at most 0.78 on the CFPB
    export): a bar drawn against the raw weight ran past its track; pages draw it against this."""
    total = sum(weights[c] for c in scored) or 1.0
    return {c: weights[c] / total for c in scored}


def _listed(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _contact_parts(measured: Collection[str]) -> list[str]:
    return ["contacts"] + [
        words
        for c, words in (("escalation", "escalations"), ("handle_time", "handle time"))
        if c in measured
    ]


def contact_measures(measured: Collection[str] = tuple(OPTIONAL_COMPONENTS)) -> str:
    """ "contacts, escalations and handle time", less what the store does not measure: what a
    ranking without customer ids is by (growth aside)."""
    return _listed(_contact_parts(measured))


def basis_heading(basis: str, measured: Collection[str] = tuple(OPTIONAL_COMPONENTS)) -> str:
    """What the ranking ranks, in words: "repeat-complaint drivers", or "themes by " what
    scores them, growth included: on the CFPB export the e-mail's "top 5 themes by contacts"
    listed 15, 20, 13, 7 and 8 contacts, ranked by growth as well."""
    if basis == "repeats":
        return "repeat-complaint drivers"
    return f"themes by {_listed([*_contact_parts(measured), 'growth'])}"


def theme_note(value: Any) -> str | None:
    """A theme's description as text, or None: pandas 3 string columns hold NaN, not None, for
    a theme without one, and a page or e-mail must not print "nan"."""
    return value if isinstance(value, str) and value else None


def rank_drivers(
    figures: pd.DataFrame,
    period: str,
    *,
    weights: DriverWeights | None = None,
    trend_periods: int | None = None,
    themes: pd.DataFrame | None = None,
    context: Mapping[str, Mapping[str, Any]] | None = None,
    basis: str = "repeats",
    measured: Collection[str] = tuple(OPTIONAL_COMPONENTS),
    previous: pd.DataFrame | None = None,
    previous_words: str = WHOLE_PERIOD_BEFORE,
) -> pd.DataFrame:
    """Themes of `period` ranked by driver score (module docstring), best to fix first.

    `previous` (figures of the period before over a partial `period`'s covered span only,
    `theme_period_figures` of those contacts) replaces the whole period before in growth and
    in the summary, which says `previous_words` ("the first 4 days of the period before").

    `basis` is "repeats", or "contacts" for a store without customer ids (`BASIS_COLUMNS`).
    `measured` names the OPTIONAL_COMPONENTS the store has values for: the others get no
    weight and no words in the summary (a missing field is not a zero).

    `themes` (theme_id, label, parent_group, keywords) names them; `context` maps theme_id to
    what the spike module knows (`spike_status`, `root_cause`, `root_causes`), passed through.
    Unassigned contacts are not a theme one can fix: left out here, see
    `unassigned_repeats`. Each row carries its figures, its weighted `components`, the repeat
    `trend` of up to `trend_periods` periods ending at `period`, and a `summary` sentence.
    """
    weights = weights or default_weights()
    trend_periods = trend_periods or Settings.model_construct().driver_trend_periods
    known = figures.loc[figures["theme_id"] != UNASSIGNED]
    names = figures.drop_duplicates("period_idx").set_index("period")["period_idx"]
    if period not in names.index:
        return pd.DataFrame(columns=["rank", "theme_id", "score", *FIGURE_COLUMNS])
    idx = int(names[period])
    now = known.loc[known["period_idx"] == idx].set_index("theme_id")
    before = known.loc[known["period_idx"] == idx - 1].set_index("theme_id")
    if previous is not None:  # a partial period: the same span of the one before
        before = previous.loc[previous["theme_id"] != UNASSIGNED].set_index("theme_id")
    ranked = now.copy()
    columns = BASIS_COLUMNS[basis]
    ranked["previous_repeat_contacts"] = (
        before["repeat_contacts"].reindex(ranked.index).fillna(0).astype(np.int64)
    )
    previous_volume = before[columns["volume"]].reindex(ranked.index).fillna(0)
    ranked["previous_volume"] = previous_volume.astype(np.int64)  # what growth is scored on
    # the rate is a property of the problem: estimated over the trend window, not one period
    span = figures.loc[figures["period_idx"].between(idx - trend_periods + 1, idx)]
    overall = span["repeat_contacts"].sum() / max(span["contacts"].sum(), 1)
    per_theme = span.groupby("theme_id")[["repeat_contacts", "contacts"]].sum()
    per_theme = per_theme.reindex(ranked.index, fill_value=0)
    k = weights.rate_prior_contacts
    ranked["repeat_rate_trailing"] = (per_theme["repeat_contacts"] + k * overall) / (
        per_theme["contacts"] + k
    )
    ratio_low = growth_lower_bound(
        ranked[columns["volume"]].to_numpy(), previous_volume.to_numpy(), GROWTH_CONFIDENCE
    )
    growth = pd.Series(
        np.log2(np.maximum(ratio_low, 1e-12)), index=ranked.index
    )  # below 1 (no growth one can tell) is clipped to 0 below
    ranked["repeat_growth"] = np.where(
        ranked["previous_repeat_contacts"] > 0,
        ranked["repeat_contacts"] / ranked["previous_repeat_contacts"].replace(0, np.nan),
        np.nan,
    )
    raw = {
        "volume": _relative(ranked[columns["volume"]].astype(float)),
        "rate": _relative(ranked["repeat_rate_trailing"]),
        "escalation": _relative(ranked[columns["escalation"]].astype(float)),
        "handle_time": _relative(ranked[columns["handle_time"]].astype(float)),
        "growth": _relative(growth.clip(lower=0)),
    }
    ceilings = component_ceilings(weights.as_dict(), scored_components(basis, measured))
    contributions = pd.DataFrame(
        {c: raw[c] * ceilings.get(c, 0.0) for c in COMPONENTS}, index=ranked.index
    )
    ranked["score"] = contributions.sum(axis=1)
    ranked["components"] = [
        {c: round(float(v), 4) for c, v in row.items()} for _, row in contributions.iterrows()
    ]
    history = span.loc[span["theme_id"] != UNASSIGNED]
    ranked["trend"] = [_history(history, theme, idx, trend_periods) for theme in ranked.index]
    trend_key = "repeat_contacts" if basis == "repeats" else "contacts"
    ranked["trend_direction"] = [
        _trend_direction([h[trend_key] for h in trend]) for trend in ranked["trend"]
    ]
    ranked = ranked.reset_index()
    ranked = _with_theme_names(ranked, themes)
    context = context or {}
    ranked["spike_status"] = [context.get(t, {}).get("spike_status") for t in ranked["theme_id"]]
    ranked["root_cause"] = [context.get(t, {}).get("root_cause") for t in ranked["theme_id"]]
    ranked["root_causes"] = [context.get(t, {}).get("root_causes") for t in ranked["theme_id"]]
    ranked = ranked.sort_values(
        ["score", columns["volume"], "theme_id"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    say = _summary if basis == "repeats" else _contact_summary
    ranked["summary"] = [
        say(row, measured, previous_words) for row in ranked.to_dict(orient="records")
    ]
    return ranked


def _history(history: pd.DataFrame, theme: str, idx: int, n: int) -> list[dict[str, Any]]:
    """Repeat contacts and rate per period (zeros where the theme had no contacts)."""
    rows = history.loc[history["theme_id"] == theme].set_index("period_idx")
    names = dict(zip(history["period_idx"], history["period"], strict=False))
    out = []
    for i in range(max(idx - n + 1, 0), idx + 1):
        if i in rows.index:
            row = rows.loc[i]
            out.append(
                {
                    "period": row["period"],
                    "contacts": int(row["contacts"]),
                    "repeat_contacts": int(row["repeat_contacts"]),
                    "repeat_rate": float(row["repeat_rate"]),
                }
            )
        elif i in names:
            out.append(
                {"period": names[i], "contacts": 0, "repeat_contacts": 0, "repeat_rate": None}
            )
    return out


def _with_theme_names(ranked: pd.DataFrame, themes: pd.DataFrame | None) -> pd.DataFrame:
    if themes is None or themes.empty:
        ranked["label"] = ranked["theme_id"]
        ranked["parent_group"] = None
        ranked["keywords"] = [[] for _ in range(len(ranked))]
        ranked["description"] = None
        return ranked
    info = themes.drop_duplicates("theme_id").set_index("theme_id")
    ranked["label"] = ranked["theme_id"].map(info["label"]).fillna(ranked["theme_id"])
    ranked["parent_group"] = ranked["theme_id"].map(info.get("parent_group", pd.Series()))
    keywords = info.get("keywords", pd.Series(dtype=object))
    ranked["keywords"] = [
        list(keywords.get(t, []) if isinstance(keywords.get(t), list | np.ndarray) else [])
        for t in ranked["theme_id"]
    ]
    # the theme's note (template text, one company): a reader should see it beside the rank
    notes = info["description"] if "description" in info else pd.Series(dtype=object)
    ranked["description"] = [theme_note(notes.get(t)) for t in ranked["theme_id"]]
    return ranked


def _present(value: Any) -> bool:
    """A real value: pandas turns a column of Nones into NaN, which is truthy."""
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value != ""


def _summary(
    row: Mapping[str, Any], measured: Collection[str], before: str = WHOLE_PERIOD_BEFORE
) -> str:
    """One sentence a program manager can read aloud: the figures behind the score."""
    parts = [
        f"{row['repeat_contacts']} repeat contacts ({row['repeat_rate']:.0%} of {row['contacts']})",
        f"{counted(row['customers_2plus_repeats'], 'customer')} came back twice or more",
    ]
    if "escalation" in measured:
        parts.append(f"{row['escalated_repeats']} repeats escalated")
    if "handle_time" in measured:
        hours = row["repeat_handle_time_s"] / SECONDS_PER_HOUR
        parts.append(f"{hours:.1f} h of handle time on repeats")
    if pd.notna(row.get("one_and_done_rate")):
        parts.append(f"{row['one_and_done_rate']:.0%} one-and-done")
    sentence = "; ".join(parts)
    growth = row.get("repeat_growth")
    if growth is not None and pd.notna(growth):
        span = "the previous period" if before == WHOLE_PERIOD_BEFORE else before
        sentence += f"; repeats {growth - 1:+.0%} on {span}"
    sentence += f"; trend {row['trend_direction']}"
    if _present(row.get("spike_status")):
        sentence += f"; spike: {row['spike_status']}"
    if _present(row.get("root_cause")):
        sentence += f"; {str(row['root_cause']).rstrip('.')}"
    if row.get("incomplete"):
        sentence += "; period's last repeat window still open"
    return sentence + "."


def _contact_summary(
    row: Mapping[str, Any], measured: Collection[str], before: str = WHOLE_PERIOD_BEFORE
) -> str:
    """The sentence for a store without customer ids: what the contacts themselves show."""
    previous = row.get("previous_volume", 0)
    where = before if before == WHOLE_PERIOD_BEFORE else f"in {before}"
    parts = [f"{counted(row['contacts'], 'contact')} ({previous} {where})"]
    if "escalation" in measured:
        parts.append(f"{row['escalated']} escalated")
    if "handle_time" in measured:
        parts.append(f"{row['handle_time_s_total'] / SECONDS_PER_HOUR:.1f} h of handle time")
    if _present(row.get("spike_status")):
        parts.append(f"spike: {row['spike_status']}")
    if _present(row.get("root_cause")):
        parts.append(str(row["root_cause"]).rstrip("."))
    return "; ".join(parts) + "."


def unassigned_repeats(figures: pd.DataFrame, period: str) -> int:
    rows = figures.loc[(figures["period"] == period) & (figures["theme_id"] == UNASSIGNED)]
    return int(rows["repeat_contacts"].sum())


def unmeasured_figures(
    basis: str, measured: Collection[str] = tuple(OPTIONAL_COMPONENTS)
) -> frozenset[str]:
    """The figure keys the store cannot fill (`UNMEASURED_FIGURES`): no customer ids (basis
    "contacts"), and each optional component it does not carry."""
    gaps = [] if basis == "repeats" else ["customers"]
    gaps += [c for c in OPTIONAL_COMPONENTS if c not in measured]
    return frozenset(k for gap in gaps for k in UNMEASURED_FIGURES[gap])


def driver_records(
    ranked: pd.DataFrame, unmeasured: Collection[str] = frozenset()
) -> list[dict[str, Any]]:
    """The ranking as nested JSON-able records (the `rca drivers --format json` contract);
    the `unmeasured` figures (`unmeasured_figures`) are null."""
    figure_keys = [
        *FIGURE_COLUMNS,
        "repeat_rate_trailing",
        "previous_repeat_contacts",
        "repeat_growth",
        "incomplete",
    ]
    return [
        {
            "rank": int(row["rank"]),
            "theme_id": row["theme_id"],
            "label": row["label"],
            "parent_group": row["parent_group"],
            "keywords": row["keywords"],
            "description": theme_note(row.get("description")),
            "score": round(float(row["score"]), 4),
            "summary": row["summary"],
            "figures": {k: None if k in unmeasured else row[k] for k in figure_keys},
            "components": row["components"],
            "trend": row["trend"],
            "trend_direction": row["trend_direction"],
            "spike_status": row["spike_status"],
            "root_cause": row["root_cause"],
            "root_causes": row["root_causes"],
        }
        for row in ranked.to_dict(orient="records")
    ]
