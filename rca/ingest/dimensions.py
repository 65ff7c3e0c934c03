"""Choosing which extra columns become dimensions, and saying why the others do not.

A dimension is an attribute a spike can be explained by (market, seller tier, app version).
Real CRM exports carry dozens of custom fields: ids, ZIP codes, free-text notes. Taken as
dimensions they explain nothing (every value has a handful of contacts) and make root-cause
search grow with their count and their values, so each one is judged here:

* free text (long values on average) is set aside;
* near-unique columns (ids) and columns with too many distinct values (ZIP codes) are set
  aside once enough rows have been seen to tell;
* a column with one value in many rows (often an id the redaction turned into `[ID]`) has
  nothing to compare and is set aside too;
* at most `max_count` dimensions are kept; the store's existing ones first, then those a
  mapping names, then the file's columns in order.

Pure: the store's earlier decisions and its value counts (this ingest's rows included) come
in as arguments, so an API batch of ten records is judged on everything seen so far, not on
its ten rows alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

OVER_LIMIT = "over the limit of {} dimensions"


@dataclass(frozen=True)
class DimensionLimits:
    max_count: int = 20
    max_values: int = 100
    max_unique_share: float = 0.5
    max_value_chars: float = 40.0
    min_rows: int = 50


@dataclass(frozen=True)
class DimensionStats:
    """One dimension's values in the store (this ingest's included)."""

    rows: int
    values: int  # distinct values
    mean_chars: float


@dataclass(frozen=True)
class Decision:
    name: str
    kept: bool
    reason: str | None
    stats: DimensionStats


@dataclass
class DimensionChoice:
    decisions: dict[str, Decision] = field(default_factory=dict)

    @property
    def kept(self) -> list[str]:
        return [n for n, d in self.decisions.items() if d.kept]

    @property
    def set_aside(self) -> dict[str, str]:
        return {n: d.reason or "" for n, d in self.decisions.items() if not d.kept}


def dimension_stats(dims: pd.DataFrame) -> dict[str, DimensionStats]:
    """Per dimension name of long rows (contact_id, name, value): rows, values, mean length."""
    if dims.empty:
        return {}
    values = dims["value"].astype(str)
    grouped = (
        dims.assign(chars=values.str.len())
        .groupby("name", sort=False)
        .agg(rows=("value", "size"), distinct=("value", "nunique"), chars=("chars", "mean"))
    )
    return {
        str(r.Index): DimensionStats(int(r.rows), int(r.distinct), float(r.chars))
        for r in grouped.itertuples()
    }


def judge(stats: DimensionStats, limits: DimensionLimits) -> str | None:
    """Why a dimension with these values explains no spike, or None when it may."""
    if stats.mean_chars > limits.max_value_chars:
        return f"free text (values average {stats.mean_chars:.0f} characters)"
    if stats.rows >= limits.min_rows and stats.values > limits.max_unique_share * stats.rows:
        return f"near-unique ({stats.values} values in {stats.rows} rows): an id, not an attribute"
    if stats.values > limits.max_values:
        return f"{stats.values} distinct values (limit {limits.max_values})"
    if stats.rows >= limits.min_rows and stats.values == 1:
        return f"one value in {stats.rows} rows: nothing to compare"
    return None


def choose_dimensions(
    stats: dict[str, DimensionStats],
    *,
    known: dict[str, str | None],
    explicit: frozenset[str] = frozenset(),
    forced: dict[str, str] | None = None,
    limits: DimensionLimits | None = None,
) -> DimensionChoice:
    """Decide every dimension in `stats`, given the store's earlier ones.

    `known` maps each dimension the store has decided to the reason it was set aside (None:
    kept); `forced` sets aside columns the reader found unfit (JSON objects or lists).

    A kept dimension is judged again on all its values so far (a column kept after a small
    API batch is set aside once it shows itself to be an id). A decision to set aside is
    final: its values are not stored, so a later batch of ten rows could not overturn it
    fairly, and the kept set does not change with the order in which files arrive.
    """
    limits = limits or DimensionLimits()
    choice = DimensionChoice()
    kept_before = {n for n, why in known.items() if why is None}
    order = sorted(stats, key=lambda n: (n not in kept_before, n not in explicit))
    kept_count = len(kept_before - set(stats))
    for name in order:
        reason = known.get(name) or (forced or {}).get(name) or judge(stats[name], limits)
        if reason is None and kept_count >= limits.max_count:
            reason = OVER_LIMIT.format(limits.max_count)
        if reason is None:
            kept_count += 1
        choice.decisions[name] = Decision(name, reason is None, reason, stats[name])
    return choice
