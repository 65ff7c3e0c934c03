"""The edge between the store and the repeat analyses: load, call the pure modules, shape.

`rca drivers`, `rca examples`, `rca demo`, and later the API and the e-mail report all ask the
same questions; they get the same answers from here. Reading is one short read-only
connection; everything after it runs in memory.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from rca.embed.cache import missing_hashes, read_vectors
from rca.errors import NotFoundError, RcaError
from rca.periods import Period, parse_period, periods_between
from rca.queries.metric_cache import cached_theme_metric
from rca.queries.theme_figures import group_members, has_parent_groups, parent_keys
from rca.repeats.detect import RepeatRules, detect_repeats, repeat_summary
from rca.repeats.drivers import (
    OPTIONAL_COMPONENTS,
    UNMEASURED_TOTALS,
    DriverWeights,
    basis_heading,
    contact_measures,
    driver_records,
    has_customer_ids,
    measured_components,
    rank_drivers,
    theme_note,
    theme_period_figures,
    unassigned_repeats,
    unmeasured_figures,
)
from rca.repeats.examples import example_cases
from rca.repeats.metric import ThemeMetric
from rca.settings import Settings
from rca.store import Store
from rca.store.analysis import load_analysis_frame
from rca.store.curation import curated_themes
from rca.store.db import first_row
from rca.store.themes import require_champion
from rca.text.audience import RedactionPolicy
from rca.trends.coverage import Coverage, coverage_of, in_first_span, previous_words


@dataclass
class RepeatAnalysis:
    """Every contact marked with its repeat status, plus what the commands need around it."""

    marked: pd.DataFrame
    model_version: str
    model_id: str
    themes: pd.DataFrame  # theme_id, label, keywords, parent_group, centroid
    periods: list[Period]
    rules: RepeatRules
    coverage: Coverage  # how far the data reaches: the one `as_of` of every command


def cached_vectors(
    con: duckdb.DuckDBPyConnection, model_id: str, hashes: pd.Series, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """(those of `rows` whose text has a cached vector, their vectors), or None if none has."""
    if not len(hashes):
        return None
    wanted = hashes.iloc[rows]
    absent = set(missing_hashes(con, model_id, wanted))
    have = rows[~wanted.isin(absent).to_numpy()]
    if not len(have):
        return None
    return have, read_vectors(con, model_id, hashes.iloc[have])


def _vectors_for(
    con: duckdb.DuckDBPyConnection, model_id: str, hashes: pd.Series, rows: np.ndarray
) -> np.ndarray | None:
    """Vectors aligned with `hashes` for `rows` (zeros elsewhere and where none is cached)."""
    found = cached_vectors(con, model_id, hashes, rows)
    if found is None:
        return None
    have, vectors_of_have = found
    vectors = np.zeros((len(hashes), vectors_of_have.shape[1]), np.float32)
    vectors[have] = vectors_of_have
    return vectors


def _theme_metric(
    frame: pd.DataFrame, vectors: np.ndarray | None, settings: Settings
) -> ThemeMetric | None:
    """The same-problem space learnt from this snapshot's themes (None: judge by raw cosine);
    fitted once per distinct snapshot (`rca.queries.metric_cache`)."""
    if vectors is None or settings.repeat_similarity_metric != "themes":
        return None
    theme = frame["theme_id"].astype("string").fillna("").to_numpy(dtype=object)
    return cached_theme_metric(settings.home, vectors, theme, settings.repeat_similarity_threshold)


def _linkable_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows of customers with two or more contacts: the only ones a repeat test compares."""
    customer = frame["customer_id"].astype("string")
    counts = customer.map(customer.value_counts())
    return np.flatnonzero((counts >= 2).fillna(False).to_numpy(dtype=bool))


def load_repeat_analysis(settings: Settings) -> RepeatAnalysis:
    """The champion's view of every contact, marked by `rca.repeats.detect.detect_repeats`."""
    with Store(settings.store_path).read() as con:  # says so itself when there is no store
        version = require_champion(con)
        (model_id,) = first_row(
            con, "SELECT model_id FROM models WHERE model_version = ?", [version]
        )
        frame = load_analysis_frame(con, version)
        vectors = _vectors_for(con, model_id, frame["text_hash"], _linkable_rows(frame))
        themes = curated_themes(con, version)
    if frame.empty:
        raise RcaError("the store has no contacts")
    rules = RepeatRules.from_settings(settings)
    coverage = coverage_of(frame["created_at"], settings.tz)
    metric = _theme_metric(frame, vectors, settings)
    marked = detect_repeats(frame, vectors, rules=rules, as_of=coverage.through, metric=metric)
    periods = periods_between(coverage.first, coverage.newest, settings.period, settings.tz)
    return RepeatAnalysis(marked, version, model_id, themes, periods, rules, coverage)


def choose_period(analysis: RepeatAnalysis, period: str, settings: Settings) -> Period:
    latest = pd.Timestamp(analysis.marked["created_at"].max()).to_pydatetime()
    return parse_period(period, kind=settings.period, tz=settings.tz, now=datetime.now(UTC),
                        latest=latest)  # fmt: skip


def parent_view(analysis: RepeatAnalysis) -> tuple[RepeatAnalysis, dict[str, list[str]]]:
    """The analysis with every contact under its theme's parent group, and each group's themes.

    A group is keyed and named as in the parent level of `rca themes` and `rca spikes`
    (`rca.queries.theme_figures.parent_keys`: its name; a theme with no group is its own,
    keyed by its id). A repeat counts under the group of the chain's first contact, as it
    counts under that contact's theme at the fine level. Hidden themes stay themselves (and
    hidden), so they are counted and left out of the ranking as at the fine level.
    """
    keys, names = parent_keys(analysis.themes)
    members = group_members(keys)
    themes = analysis.themes
    hidden = themes.loc[themes["hidden"].fillna(False).astype(bool)]
    mapping = {**{str(t): str(t) for t in hidden["theme_id"]}, **keys}
    marked = analysis.marked.copy()  # keeps attrs (repeat rules, as_of)
    for column in ("theme_id", "problem_theme_id"):
        if column in marked:
            marked[column] = marked[column].map(mapping).astype(object)
    notes = dict(zip(themes["theme_id"], themes["description"], strict=True)) if (
        "description" in themes
    ) else {}  # fmt: skip
    rows = [
        {"theme_id": key, "label": names[key], "keywords": [], "parent_group": None,
         # a one-theme group is that theme: its note (template text, one company) still holds
         "description": theme_note(notes.get(ids[0])) if len(ids) == 1 else None,
         "hidden": False}
        for key, ids in members.items()
    ] + [
        {"theme_id": str(row.theme_id), "label": row.label, "keywords": [],
         "parent_group": None, "description": None, "hidden": True}
        for row in hidden.itertuples(index=False)
    ]  # fmt: skip
    grouped = pd.DataFrame(
        rows, columns=["theme_id", "label", "keywords", "parent_group", "description", "hidden"]
    )
    return replace(analysis, marked=marked, themes=grouped), members


def drivers_payload(
    settings: Settings,
    *,
    period: str = "latest",
    top: int = 10,
    context: Mapping[str, Mapping[str, Any]] | None = None,
    analysis: RepeatAnalysis | None = None,
    granularity: str = "fine",
) -> dict[str, Any]:
    """The `rca drivers` answer (without the `command` key): ranking, repeat totals, settings.

    `context` maps theme ids (group keys at the parent level) to spike status / root-cause
    sentences when the spike module has them (see `rca.repeats.drivers.rank_drivers`).
    `granularity="parent"` ranks the parent groups (`parent_view`); each driver then lists its
    themes in `theme_ids`.
    """
    if granularity not in ("fine", "parent"):
        raise RcaError("granularity must be fine or parent")
    analysis = analysis or load_repeat_analysis(settings)
    chosen = choose_period(analysis, period, settings)
    members: dict[str, list[str]] = {}
    level_note = ""
    if granularity == "parent":
        if not has_parent_groups(analysis.themes):
            level_note = "no useful parent level in this model: each theme is its own group"
        analysis, members = parent_view(analysis)
    if context is None:
        context = spike_context(settings, chosen.name, granularity=granularity)
    periods = [p for p in analysis.periods if p.start < chosen.end] or [chosen]
    if periods[-1].name != chosen.name:
        periods.append(chosen)
    window_days = analysis.rules.window.total_seconds() / 86_400
    figures = theme_period_figures(analysis.marked, periods, window_days=window_days)
    span = analysis.coverage.compared_span(chosen, settings.spike_partial_tolerance)
    previous = None
    if span is not None and len(periods) > 1:  # a partial period: the same span before it
        before = periods[-2]
        early = in_first_span(analysis.marked["created_at"], before, span)
        previous = theme_period_figures(
            analysis.marked.loc[early], [before], window_days=window_days
        )
    weights = DriverWeights.from_settings(settings)
    has_customers = has_customer_ids(analysis.marked)
    basis = "repeats" if has_customers else "contacts"
    measured = measured_components(analysis.marked)
    ranked = rank_drivers(
        figures,
        chosen.name,
        weights=weights,
        trend_periods=settings.driver_trend_periods,
        themes=analysis.themes,
        context=context,
        basis=basis,
        measured=measured,
        previous=previous,
        previous_words=previous_words(span),
    )
    hidden = set(analysis.themes.loc[analysis.themes["hidden"], "theme_id"])
    hidden_drivers = int(ranked["theme_id"].isin(hidden).sum())
    if hidden_drivers:  # small talk, spam: counted, not ranked
        ranked = ranked.loc[~ranked["theme_id"].isin(hidden)].reset_index(drop=True)
        ranked["rank"] = np.arange(1, len(ranked) + 1)
    in_period = figures.loc[figures["period"] == chosen.name]
    contacts = int(in_period["contacts"].sum())
    repeats = int(in_period["repeat_contacts"].sum())
    marked = analysis.marked
    created = pd.to_datetime(marked["created_at"], utc=True)
    window = (created >= pd.Timestamp(chosen.start)) & (created < pd.Timestamp(chosen.end))
    unmeasured = unmeasured_figures(basis, measured)
    records = driver_records(ranked.head(top), unmeasured)
    if granularity == "parent":
        for record in records:
            record["theme_ids"] = sorted(members.get(str(record["theme_id"]), []))
    note = drivers_note(analysis, chosen, contacts, has_customers, measured)
    partial = analysis.coverage.period_note(chosen, settings.spike_partial_tolerance)
    note = "; ".join(n for n in (partial if contacts else "", note) if n)
    return {
        "model_version": analysis.model_version,
        "granularity": granularity,
        "period": chosen.name,
        "period_start": chosen.start,
        "period_end": chosen.end,
        "as_of": marked.attrs.get("as_of"),
        "incomplete": bool(in_period["incomplete"].any()) if len(in_period) else False,
        "basis": basis,
        "heading": basis_heading(basis, measured),
        "measured": sorted(measured),
        "note": "; ".join(n for n in (level_note, note) if n),
        "settings": {
            "repeat_window_days": settings.repeat_window_days,
            "repeat_continuation_minutes": settings.repeat_continuation_minutes,
            "repeat_similarity_threshold": settings.repeat_similarity_threshold,
            "repeat_similarity_metric": settings.repeat_similarity_metric,
            "weights": weights.as_dict(),
            "rate_prior_contacts": weights.rate_prior_contacts,
        },
        "totals": {
            k: None if basis != "repeats" and k in UNMEASURED_TOTALS else v
            for k, v in {
                **repeat_summary(marked.loc[window]),
                "repeat_rate": repeats / contacts if contacts else None,
                "unassigned_repeat_contacts": unassigned_repeats(figures, chosen.name),
                "hidden_themes": hidden_drivers,
            }.items()
        },
        "drivers": records,
    }


def drivers_note(
    analysis: RepeatAnalysis,
    period: Period,
    contacts: int,
    has_customers: bool,
    measured: Collection[str] = tuple(OPTIONAL_COMPONENTS),
) -> str:
    """What a reader must know before reading the ranking ('' when nothing)."""
    if not contacts:
        return analysis.coverage.empty_note(period) or f"no contacts in {period.name}"
    absent = [
        words
        for c, words in (("escalation", "escalation flag"), ("handle_time", "handle time"))
        if c not in measured
    ]
    scored = "neither is scored" if len(absent) > 1 else "it is not scored"
    missing = f"; the contacts carry no {' and no '.join(absent)}, so {scored}" if absent else ""
    if not has_customers:
        return (
            "no customer ids in this store: repeat complaints cannot be detected, so themes are "
            f"ranked by {contact_measures(measured)} and growth (map a customer_id field to see "
            "repeats)"
            f"{missing}"
        )
    return missing.removeprefix("; ")


def theme_centroid(analysis: RepeatAnalysis, theme_id: str) -> np.ndarray | None:
    row = analysis.themes.loc[analysis.themes["theme_id"] == theme_id]
    if row.empty or row["centroid"].iloc[0] is None:
        return None
    return np.asarray(row["centroid"].iloc[0], dtype=np.float32)


def examples_frame(
    settings: Settings,
    theme_id: str,
    *,
    kind: str = "representative",
    n: int = 10,
    analysis: RepeatAnalysis | None = None,
    until: datetime | None = None,
    since: datetime | None = None,
    prefetched: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The `rca examples` cases of one theme (see `rca.repeats.examples.example_cases`);
    ``until`` keeps contacts created before it (a report on a past period shows no later case),
    ``since`` those created at or after it (a period's own cases).
    ``prefetched`` (from :func:`member_vectors`, with neither bound) saves the store read."""
    analysis = analysis or load_repeat_analysis(settings)
    if theme_id not in set(analysis.themes["theme_id"]):
        raise NotFoundError(
            f"no theme {theme_id!r} in model {analysis.model_version}: see `rca themes`"
        )
    marked = analysis.marked
    if until is not None:
        marked = marked.loc[pd.to_datetime(marked["created_at"], utc=True) < pd.Timestamp(until)]
    if since is not None:
        marked = marked.loc[pd.to_datetime(marked["created_at"], utc=True) >= pd.Timestamp(since)]
    marked = marked.reset_index(drop=True)
    vectors = None
    bounded = until is not None or since is not None
    if kind in ("representative", "escalated") and prefetched is not None and not bounded:
        rows, found = prefetched
        if len(rows):
            vectors = np.zeros((len(marked), found.shape[1]), np.float32)
            vectors[rows] = found
    elif kind in ("representative", "escalated"):
        members = np.flatnonzero((marked["theme_id"] == theme_id).fillna(False).to_numpy(bool))
        with Store(settings.store_path).read() as con:
            vectors = _vectors_for(con, analysis.model_id, marked["text_hash"], members)
    return example_cases(
        marked,
        theme_id,
        kind=kind,
        n=n,
        vectors=vectors,
        centroid=theme_centroid(analysis, theme_id) if vectors is not None else None,
        policy=RedactionPolicy.from_settings(settings, "people"),
    )


def member_vectors(
    settings: Settings, analysis: RepeatAnalysis, theme_ids: Collection[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(rows of ``analysis.marked``, their cached vectors) for every contact of ``theme_ids``, in
    one store read: a driver list's example cases read them theme by theme otherwise (71 themes
    of the 5,000-contact demo: 142 store connections, 2.4 s of a 9 s answer)."""
    marked = analysis.marked.reset_index(drop=True)
    wanted = marked["theme_id"].isin(list(theme_ids)).fillna(False).to_numpy(bool)
    rows = np.flatnonzero(wanted)
    with Store(settings.store_path).read() as con:
        found = cached_vectors(con, analysis.model_id, marked["text_hash"], rows)
    if found is None:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
    return found


def top_drivers_with_examples(
    settings: Settings, *, top: int = 5, n_examples: int = 2, period: str = "latest"
) -> list[dict[str, Any]]:
    """For `rca demo`: the top drivers, each with its representative example cases."""
    from rca.repeats.examples import case_records

    analysis = load_repeat_analysis(settings)
    payload = drivers_payload(settings, period=period, top=top, analysis=analysis)
    for driver in payload["drivers"]:
        cases = examples_frame(settings, driver["theme_id"], n=n_examples, analysis=analysis)
        driver["examples"] = case_records(cases)
    return payload["drivers"]


def spike_context(
    settings: Settings, period: str, *, granularity: str = "fine"
) -> dict[str, dict[str, Any]]:
    """Spike status and root cause per theme (per parent group at `granularity="parent"`) for
    `period`, or {} when spikes cannot be scored.

    Drivers still rank without spike information (e.g. a store with too little history), so a
    handled scoring error degrades to "no spike status" instead of failing the ranking.
    """
    from rca.queries.spike_report import detect_spikes

    try:
        return detect_spikes(settings, period, granularity=granularity).driver_context()
    except RcaError:
        return {}
