"""Request and response models: the service's contract, published at /openapi.json.

Field names follow the CLI's `--format json` output (docs/json.md) so a script can move from
`rca drivers --format json` to `GET /v1/drivers` without renaming anything.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field


def clean(value: Any) -> Any:
    """JSON-safe: NaN/inf/NA to None, numpy scalars and arrays to Python, timestamps kept."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [clean(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# -- themes
class ThemeSort(StrEnum):
    volume = "volume"
    repeats = "repeats"
    growth = "growth"


class ThemeSummary(BaseModel):
    theme_id: str
    label: str
    keywords: list[str]
    parent_group: str | None = None
    volume: int = Field(description="Contacts of the period assigned to this theme.")
    share: float = Field(description="Of all contacts in the period, unassigned included.")
    previous_volume: int
    growth: float = Field(
        description="(volume + 1) / (previous_volume + 1): a ratio, 2.0 = doubled."
    )
    repeat_contacts: int
    repeat_rate: float | None = None
    escalated: int
    escalation_rate: float | None = None
    spike_status: str | None = Field(default=None, description="e.g. 'burst (high)'.")


class PeriodInfo(BaseModel):
    period: str
    period_start: datetime
    period_end: datetime


class ThemePage(PeriodInfo):
    model_version: str
    sort: ThemeSort
    total_themes: int
    total_volume: int
    items: list[ThemeSummary]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page.")


class SeriesPoint(BaseModel):
    period: str
    start: datetime
    volume: int
    repeat_contacts: int
    escalated: int


class Explanation(BaseModel):
    attributes: dict[str, str | None]
    label: str
    explained: float | None = None
    surprise: float | None = None
    expected_share: float | None = None
    current_share: float | None = None
    observed: int | None = None
    expected: float | None = None
    p_value: float | None = None


class RootCause(BaseModel):
    source: str | None = Field(default=None, description="spike | mix (vs all contacts).")
    spread_evenly: bool
    sentence: str
    explanations: list[Explanation]


class RepeatFigures(BaseModel):
    contacts: int
    repeat_contacts: int
    repeat_rate: float | None = None
    customers_2plus_repeats: int
    escalated_repeats: int
    repeat_handle_time_s: float | None = None
    one_and_done_rate: float | None = None
    incomplete: bool


class LineageEvent(BaseModel):
    model_version: str
    event: str
    theme_id: str
    related_ids: list[str]


class Lineage(BaseModel):
    merged_from: list[str]
    split_into: list[str]
    split_from: list[str]
    events: list[LineageEvent]


class ThemeDetail(PeriodInfo):
    model_version: str
    theme_id: str
    label: str
    keywords: list[str]
    parent_group: str | None = None
    fit_size: int
    figures: ThemeSummary
    series: list[SeriesPoint]
    root_cause: RootCause
    repeats: RepeatFigures
    lineage: Lineage
    links: dict[str, str]


# -- examples
class ExampleKind(StrEnum):
    representative = "representative"
    recent = "recent"
    escalated = "escalated"
    repeat = "repeat"


class CaseFormat(StrEnum):
    json = "json"
    csv = "csv"


class Case(BaseModel):
    kind: str
    rank: int
    contact_id: str
    created_at: datetime
    theme_id: str | None = None
    channel: str | None = None
    is_escalation: bool | None = None
    handle_time_s: float | None = None
    resolution: str | None = None
    csat: float | None = None
    similarity: float | None = None
    repeat_status: str | None = None
    chain_id: str | None = None
    chain_pos: int | None = None
    days_since_previous: float | None = None
    text: str
    dimensions: dict[str, str | None] = Field(default_factory=dict)


class ExamplesResponse(BaseModel):
    model_version: str
    theme_id: str
    kind: ExampleKind
    n: int
    items: list[Case]


# -- drivers and spikes
class Driver(BaseModel):
    model_config = ConfigDict(extra="allow")

    rank: int
    theme_id: str
    label: str | None = None
    parent_group: str | None = None
    keywords: list[str] | None = None
    score: float
    summary: str
    figures: dict[str, Any]
    components: dict[str, float | None]
    trend: list[dict[str, Any]]
    trend_direction: str | None = None
    spike_status: str | None = None
    root_cause: str | None = None
    examples: list[Case]


class DriversResponse(PeriodInfo):
    model_version: str
    as_of: datetime | None = None
    incomplete: bool
    basis: str = Field(
        default="repeats",
        description="repeats, or contacts when the store has no customer ids to see repeats by",
    )
    note: str = ""
    totals: dict[str, Any]
    settings: dict[str, Any]
    drivers: list[Driver]


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class Spike(BaseModel):
    model_config = ConfigDict(extra="allow")

    theme_id: str
    label: str | None = None
    kind: str
    severity: str
    observed: int
    expected: float | None = None
    excess: float | None = None
    growth: float | None = None
    p_value: float | None = None
    q_value: float | None = None
    first_seen: datetime | str | None = None
    root_cause: RootCause
    links: dict[str, str]


class SpikesResponse(PeriodInfo):
    model_version: str
    as_of: datetime | None = None
    partial: bool
    coverage: float | None = None
    scored: bool
    method: str
    note: str
    total: dict[str, Any]
    spikes: list[Spike]


# -- writes
class ContactIn(BaseModel):
    """One contact, with the canonical field names of file ingest (docs/mapping.md)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    contact_id: Any = Field(default=None, description="Required; validated like file ingest.")
    created_at: Any = Field(default=None, description="ISO 8601; naive = RCA_TIMEZONE.")
    text: Any = None
    customer_id: Any = None
    channel: Any = None
    is_escalation: Any = None
    handle_time_s: Any = None
    resolution: Any = None
    csat: Any = None
    conversation_id: Any = Field(default=None, description="Thread id: turns are not repeats.")
    in_reply_to: Any = Field(default=None, description="contact_id of the message answered.")
    vendor: Any = None
    site: Any = None
    team: Any = None
    agent_id: Any = None
    dimensions: dict[str, Any] | None = Field(
        default=None, description="Attributes such as market, seller_tier, app_version."
    )


class ContactsIn(BaseModel):
    contacts: list[ContactIn] = Field(min_length=1)


class RowResult(BaseModel):
    index: int = Field(description="Position in the request's `contacts` list.")
    contact_id: str | None = None
    status: str = Field(description="inserted | updated | unchanged | rejected")
    reason: str | None = None


class ContactsOut(BaseModel):
    ingest_id: str
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    assigned: int | None = Field(
        default=None, description="Contacts assigned to the champion by this call."
    )
    results: list[RowResult]


class ClassifyIn(BaseModel):
    texts: list[str] = Field(min_length=1)


class Classification(BaseModel):
    theme_id: str | None = Field(description="None when no theme is close enough.")
    label: str | None = None
    similarity: float
    assigned: bool


class ClassifyOut(BaseModel):
    model_version: str
    threshold: float
    results: list[Classification]


# -- model and health
class ModelOut(BaseModel):
    model_version: str
    registry_version: str | None = None
    mlflow_run_id: str | None = None
    trained_at: datetime | None = None
    encoder_id: str
    n_themes: int
    assign_threshold: float
    metrics: dict[str, Any]
    snapshot: str
    snapshot_built_at: datetime


class Health(BaseModel):
    status: str
    detail: str | None = None
    model_version: str | None = None


class VendorsResponse(PeriodInfo):
    """`rca vendors`: rows keyed by the level's name (vendor, site, team or agent_id)."""

    model_version: str
    level: str
    span: int = Field(default=1, description="Periods covered, ending with the period named.")
    method: str
    notes: list[str] = Field(default_factory=list)
    handlers: list[dict[str, Any]]
    shortfalls: list[dict[str, Any]] = Field(default_factory=list)
    alerts: list[dict[str, Any]] = Field(
        default_factory=list, description="One handler's jumps in the period (by name only)."
    )
    series: list[dict[str, Any]] = Field(
        default_factory=list, description="One handler's series up to the period (by name only)."
    )


class VendorAlertsResponse(PeriodInfo):
    """`rca vendors --alerts`: handler-periods whose contacts, AHT or repeat rate jumped."""

    granularity: str
    level: str
    method: str
    notes: list[str] = Field(default_factory=list)
    scored: int
    alerts: list[dict[str, Any]]
