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
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


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


class Granularity(StrEnum):
    fine = "fine"
    parent = "parent"


class ThemeSummary(BaseModel):
    theme_id: str
    label: str
    description: str | None = Field(
        default=None, description="A note: template campaign, one company, or a person's words."
    )
    keywords: list[str]
    parent_group: str | None = None
    volume: int = Field(description="Contacts of the period assigned to this theme.")
    share: float = Field(description="Of all contacts in the period, unassigned included.")
    previous_volume: int = Field(
        description="The period before; for a partial period (see note) the same span of it."
    )
    growth: float = Field(
        description="(volume + 1) / (previous_volume + 1): a ratio, 2.0 = doubled."
    )
    repeat_contacts: int | None = Field(
        default=None, description="None: the store has no customer ids, repeats are not seen."
    )
    repeat_rate: float | None = None
    escalated: int | None = Field(
        default=None, description="None: no contact of the store carries an escalation flag."
    )
    escalation_rate: float | None = None
    spike_status: str | None = Field(default=None, description="e.g. 'burst (high)'.")
    hidden: bool = Field(default=False, description="Hidden by a person (GET /v1/taxonomy).")
    pinned: bool = Field(default=False, description="Named by a person; a refit keeps it.")


class PeriodInfo(BaseModel):
    period: str
    period_start: datetime
    period_end: datetime


class GroupTheme(BaseModel):
    """A fine theme as listed under its parent group."""

    theme_id: str
    label: str
    description: str | None = None
    volume: int
    share: float
    growth: float
    repeat_rate: float | None = None


class ThemeGroup(BaseModel):
    """A parent group: every figure is the sum over its visible themes (rates from the sums)."""

    parent_group: str | None = Field(description="None: a theme with no parent group.")
    label: str
    theme_ids: list[str]
    volume: int
    share: float
    previous_volume: int = Field(
        description="The period before; for a partial period (see note) the same span of it."
    )
    growth: float = Field(description="(volume + 1) / (previous_volume + 1).")
    repeat_contacts: int | None = Field(
        default=None, description="None: the store has no customer ids, repeats are not seen."
    )
    repeat_rate: float | None = None
    escalated: int | None = Field(
        default=None, description="None: no contact of the store carries an escalation flag."
    )
    escalation_rate: float | None = None
    spike_status: str | None = None
    themes: list[GroupTheme]


class ThemePage(PeriodInfo):
    model_version: str
    sort: ThemeSort
    granularity: Granularity = Granularity.fine
    total_themes: int
    total_groups: int | None = Field(default=None, description="At granularity=parent.")
    total_volume: int
    items: list[ThemeSummary] = Field(description="The themes (empty at granularity=parent).")
    groups: list[ThemeGroup] = Field(default=[], description="At granularity=parent.")
    note: str | None = None
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
    description: str | None = None
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
    description: str | None = Field(
        default=None, description="the theme's note (template text, one company), or null"
    )
    score: float
    summary: str
    figures: dict[str, Any]
    components: dict[str, float | None]
    trend: list[dict[str, Any]]
    trend_direction: str | None = None
    spike_status: str | None = None
    root_cause: str | None = None
    examples: list[Case]
    theme_ids: list[str] | None = Field(
        default=None, description="At granularity=parent: the group's themes."
    )


class DriversResponse(PeriodInfo):
    model_version: str
    granularity: str = Field(
        default="fine", description="fine: themes; parent: parent groups (`theme_id` its name)"
    )
    as_of: datetime | None = None
    incomplete: bool
    basis: str = Field(
        default="repeats",
        description="repeats, or contacts when the store has no customer ids to see repeats by",
    )
    heading: str = Field(
        default="repeat-complaint drivers",
        description="what is ranked, in words, less what the contacts do not carry",
    )
    measured: list[str] = Field(
        default_factory=lambda: ["escalation", "handle_time"],
        description="optional components the contacts carry (escalation, handle_time): the "
        "others are not scored and their figures are null",
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
    description: str | None = Field(
        default=None, description="the theme's note (template text, one company), or null"
    )
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
    theme_ids: list[str] | None = Field(
        default=None, description="At granularity=parent: the group's themes."
    )


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
    granularity: Granularity = Granularity.fine


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
    direction: Any = Field(
        default=None,
        description="inbound (default) | outbound: the company's own message, "
        "kept as conversation context, not a contact.",
    )
    dimensions: dict[str, Any] | None = Field(
        default=None, description="Attributes such as market, seller_tier, app_version."
    )


class ContactsIn(BaseModel):
    contacts: list[ContactIn] = Field(min_length=1)


class RowResult(BaseModel):
    index: int = Field(description="Position in the request's `contacts` list.")
    contact_id: str | None = None
    status: str = Field(description="inserted | updated | unchanged | rejected | context")
    reason: str | None = None


class ContactsOut(BaseModel):
    ingest_id: str
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    context: int = Field(default=0, description="Outbound messages kept as context.")
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


# -- SOP changes and escalations (issue 21)
class SopScope(BaseModel):
    """Measure the change inside this market, channel or vendor only."""

    model_config = ConfigDict(extra="forbid")

    market: str | None = Field(default=None, max_length=128)
    channel: str | None = Field(default=None, max_length=128)
    vendor: str | None = Field(default=None, max_length=128)


class SopChangeIn(BaseModel):
    """Name the themes by `theme_ids`, `theme_id` (one; kept for older clients) or a parent
    `group` (all its themes in today's model); at least one of them."""

    model_config = ConfigDict(extra="forbid")

    theme_id: str | None = Field(default=None, max_length=64, description="One stable theme id.")
    theme_ids: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="Stable theme ids, e.g. [T0004, T0011]: measured on their union.",
    )
    group: str | None = Field(
        default=None, max_length=120, description="A parent group's name: all its themes."
    )
    effective_at: datetime = Field(description="When it took effect; naive = RCA_TIMEZONE.")
    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=10_000)
    link: str | None = Field(default=None, max_length=2_000)
    author: str | None = Field(default=None, max_length=200, description="Default: the key.")
    scope: SopScope = Field(default_factory=SopScope)

    @field_validator("effective_at")
    @classmethod
    def _plausible(cls, value: datetime) -> datetime:
        """Years 1970-2199: a store timestamp for any zone, never an overflow."""
        if not 1970 <= value.year < 2200:
            raise ValueError("effective_at must fall in the years 1970-2199")
        return value

    @field_validator("theme_ids")
    @classmethod
    def _short_ids(cls, value: list[str]) -> list[str]:
        if any(len(v) > 64 for v in value):
            raise ValueError("a theme id is at most 64 characters")
        return value

    @model_validator(mode="after")
    def _some_theme(self) -> SopChangeIn:
        if not (self.theme_id or self.theme_ids or self.group):
            raise ValueError("name the change's themes: theme_ids, theme_id or group")
        return self


class SopChange(BaseModel):
    change_id: str
    theme_id: str = Field(description="The first of `theme_ids`.")
    theme_ids: list[str] = Field(description="Every theme it covers; measured on their union.")
    group: str | None = Field(default=None, description="The parent group it was recorded on.")
    effective_at: datetime
    title: str
    description: str | None = None
    link: str | None = None
    author: str | None = None
    scope: dict[str, str]
    status: str
    created_at: datetime


class SopChangeList(BaseModel):
    changes: list[SopChange]


class SopEffect(BaseModel):
    """One rate of the theme, before vs after, against the other themes (difference in
    differences of per-period log rate ratios, reported in rate points)."""

    before: float | None = None
    after: float | None = None
    change: float | None = Field(default=None, description="Rate points; negative = fell.")
    low: float | None = Field(default=None, description="95 % interval, rate points.")
    high: float | None = None
    p_value: float | None = None
    periods_before: int
    periods_after: int
    contacts_before: int
    contacts_after: int
    verdict: str = Field(
        description="not_measured (the store lacks the field) | too_early | no_effect | improved "
        "| worsened"
    )
    sentence: str


class SopSeriesPoint(BaseModel):
    period: str
    start: datetime
    side: str = Field(description="before | change (the period holding it) | after")
    contacts: int
    repeat_rate: float | None = None
    other_repeat_rate: float | None = None
    escalation_rate: float | None = None
    other_escalation_rate: float | None = None


class SopAuditEntry(BaseModel):
    at: datetime
    actor: str | None = None
    action: str
    details: dict[str, Any]


class SopChangeDetail(BaseModel):
    change: SopChange
    audit: list[SopAuditEntry]
    covered_themes: list[str] = Field(
        description="Today's themes it is measured on (its own, or what a refit made of it)."
    )
    effects: dict[str, SopEffect] = Field(description="By metric: repeat rate, escalation rate.")
    series: list[SopSeriesPoint]


class ReviewItem(BaseModel):
    rank: int
    theme_id: str
    label: str
    contacts: int
    repeat_contacts: int | None = Field(description="None: the store has no customer ids.")
    repeat_rate: float | None = Field(description="None: the store has no customer ids.")
    escalations: int | None = Field(description="None: the contacts carry no escalation flag.")
    escalation_rate: float | None = Field(
        description="None: the contacts carry no escalation flag."
    )
    repeat_hours: float = Field(description="Agent hours on the theme's repeats: the cost.")
    why: str


class SopReview(PeriodInfo):
    window_start: datetime
    weeks: int
    overall_repeat_rate: float | None = None
    overall_escalation_rate: float | None = None
    themes_changed: list[str] = Field(description="Themes with an SOP change in the window.")
    queue: list[ReviewItem]
    note: str = ""


class EscalationRef(BaseModel):
    contact_id: str
    created_at: datetime
    channel: str | None = None


class EscalationGroup(BaseModel):
    theme_id: str | None = None
    label: str
    escalations: int
    contacts: int
    escalation_rate: float | None = None
    escalation_rate_low: float | None = Field(
        default=None, description="95 % interval of the rate (Wilson, continuity-corrected)."
    )
    escalation_rate_high: float | None = None
    handle_hours: float
    repeat_escalations: int
    with_resolution: int
    latest: list[EscalationRef]


class EscalationsResponse(PeriodInfo):
    contacts: int
    escalations: int | None = Field(
        description="None: no contact of the store carries an escalation flag (see note)."
    )
    themes: list[EscalationGroup]
    note: str = ""


class DeepDive(BaseModel):
    """`rca escalation ID`: the case, its theme and typicality, the customer's chain, what
    over-explains the theme's escalations, similar earlier escalations, SOP changes in force."""

    contact: dict[str, Any]
    theme: dict[str, Any]
    chain: list[dict[str, Any]]
    escalation_flag: bool = Field(
        default=True,
        description="False: no contact of the store carries an escalation flag, so there is "
        "no why and no similar escalation to show.",
    )
    why_escalations: RootCause | None = None
    similar_escalations: list[dict[str, Any]]
    sop_changes_in_force: list[SopChange]


# -- taxonomy (issue 19): a person's corrections of the themes
Label = Field(min_length=1, max_length=120, description="Not blank.")
Note = Field(default=None, max_length=500)
ThemeId = Field(min_length=1, max_length=40, description="A stable theme id, e.g. T0004.")


class TaxonomyTheme(BaseModel):
    theme_id: str
    label: str
    keywords: list[str] = []
    parent_group: str | None = None
    size: int = 0
    contacts: int | None = Field(default=None, description="Assigned contacts, curated.")
    hidden: bool = Field(description="Left out of top lists, spikes and the e-mail.")
    pinned: bool = Field(description="Named by a person: a refit keeps the name.")
    kept: bool = Field(
        default=False,
        description="Kept as it is by a person: refits propose no theme carved out of it.",
    )
    origin: str = Field(description="fit | split | create")
    description: str | None = None


class TaxonomyEditOut(BaseModel):
    edit_id: str
    action: str
    theme_id: str
    params: dict[str, Any] = {}
    new_ids: list[str] = []
    by: str | None = None
    why: str | None = None
    at: datetime | None = None
    model_version: str | None = None
    undone_by: str | None = Field(default=None, description="The undo that took it back.")


class SplitChild(BaseModel):
    label: str | None = None
    size: int | None = None
    keywords: list[str] = []
    examples: list[str] = Field(default=[], description="Contact ids near the part's centre.")


class SplitPreviewOut(BaseModel):
    preview_id: str
    theme_id: str
    children: list[SplitChild]
    accepted: bool = False
    by: str | None = None
    at: datetime | None = None


class TaxonomyProposal(BaseModel):
    model_version: str
    theme_id: str
    kind: str = Field(
        description="split | merged | retired: what a refit did to a curated theme; new_theme: a "
        "theme the refit carved out of this one and held for review instead of applying."
    )
    message: str
    related_ids: list[str] = []
    created_at: datetime | None = None
    label: str = Field(
        default="",
        description="new_theme: the held theme's name, as the message quotes it and the split "
        "preview of the proposed cut shows its part; empty for other kinds.",
    )
    keywords: list[str] = Field(default=[], description="new_theme: the held theme's keywords.")


class TaxonomyOut(BaseModel):
    model_version: str
    edits: int
    themes: list[TaxonomyTheme]
    hidden: list[str]
    merged: dict[str, str] = Field(description="Merged-away id → the id that holds it.")
    split_into: dict[str, list[str]]
    previews: list[SplitPreviewOut]
    proposals: list[TaxonomyProposal]


class TaxonomyHistoryOut(BaseModel):
    edits: list[TaxonomyEditOut]


class TaxonomyChangeOut(BaseModel):
    changed: bool = Field(description="False when the taxonomy already said so (idempotent).")
    edit: TaxonomyEditOut | None = None
    theme: TaxonomyTheme | None = None
    themes: list[TaxonomyTheme] = []
    contacts: int | None = Field(
        default=None,
        description="Contacts a created theme took; reassign: the theme's contacts after it.",
    )
    moved: int | None = Field(
        default=None, description="reassign: contacts that left another theme for this one."
    )
    moved_from: dict[str, int] | None = Field(
        default=None,
        description='reassign: the theme each moved contact left -> how many ("" = unassigned).',
    )
    learnt: int | None = Field(
        default=None,
        description="A taught reassign: further contacts like the filed ones that joined the "
        "theme (net).",
    )


class EditNote(BaseModel):
    by: str | None = Field(default=None, max_length=120, description="Default: the key's name.")
    why: str | None = Note


class RenameIn(EditNote):
    theme_id: str = ThemeId
    label: str = Label


class MergeIn(EditNote):
    target: str = ThemeId
    sources: list[str] = Field(min_length=1, max_length=50)


class ReassignIn(EditNote):
    contact_ids: list[str] = Field(
        min_length=1,
        max_length=1000,
        description="Contacts to file under `theme_id` by hand; they stay there through "
        "refits until the edit is undone.",
    )
    theme_id: str = ThemeId
    teach: bool = Field(
        default=False,
        description="Also file every contact, now and later, nearer to these than to its own "
        "theme's centre and at least `threshold` similar to their mean.",
    )
    threshold: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="With `teach`: the cosine similarity to the filed contacts' mean needed "
        "(default 0.5).",
    )

    @model_validator(mode="after")
    def _threshold_teaches(self) -> ReassignIn:
        if self.threshold is not None and not self.teach:
            raise ValueError("threshold is for teach")
        return self


class CaseRowIn(BaseModel):
    contact_id: str = Field(min_length=1, max_length=200)
    theme_id: str = ThemeId


class CasesIn(EditNote):
    """A theme's cases with corrected theme ids (`rca taxonomy reassign --file`)."""

    rows: list[CaseRowIn] = Field(min_length=1, max_length=5000)
    dry_run: bool = Field(default=False, description="List what would move; write nothing.")
    teach: bool = Field(
        default=False,
        description="Each edit also files the contacts like its own, now and later (see "
        "`/v1/taxonomy/reassign`); how many followed is each edit's `learnt`.",
    )


class CasesEdit(BaseModel):
    edit_id: str | None = Field(description="null on a dry run.")
    theme_id: str
    label: str | None = None
    contacts: list[str]
    lines: list[int] = Field(description="The rows it comes from (1 = the first row).")
    learnt: int | None = Field(
        default=None, description="With `teach`: further contacts like them that joined (net)."
    )
    moved_from: dict[str, int] = Field(description='Theme left -> contacts ("" = unassigned).')


class CasesOut(BaseModel):
    model_version: str
    dry_run: bool
    changed: bool
    rows: int
    unchanged: int = Field(description="Rows whose contact is in its theme already.")
    moved: int
    edits: list[CasesEdit]


class SplitIn(EditNote):
    theme_id: str = ThemeId
    parts: int = Field(default=2, ge=2, le=10)
    proposed: bool = Field(
        default=False,
        description="Preview the cut the last refit proposed (the themes it carved out of this "
        "one and held, and the rest) instead of re-clustering; `parts` is then ignored. 400 "
        "when no open proposal carves a theme out of it.",
    )


class AcceptIn(EditNote):
    preview_id: str = Field(min_length=1, max_length=40)


class MoveIn(EditNote):
    theme_id: str = ThemeId
    parent_group: str | None = Field(
        default=None, max_length=120, description="The group it belongs to (omit with ungroup)."
    )
    ungroup: bool = Field(
        default=False,
        description="Take it out of its group: a group of its own at the parent level.",
    )


class ThemeIn(EditNote):
    theme_id: str = ThemeId


class UndoIn(EditNote):
    edit_id: str = Field(min_length=1, max_length=40, description="The edit to take back.")


class CreateIn(EditNote):
    label: str = Label
    description: str | None = Field(default=None, max_length=1000)
    examples: list[str] = Field(default=[], max_length=200, description="Contact ids.")
    threshold: float = Field(default=0.5, gt=0, le=1)
    parent_group: str | None = Field(default=None, max_length=120)


class ReasonCodeIn(BaseModel):
    label: str = Field(max_length=500, description="The created theme's name.")
    description: str | None = Field(default=None, max_length=1000)
    threshold: float | None = Field(
        default=None, gt=0, le=1, description="Default: the request's `threshold`."
    )
    parent_group: str | None = Field(default=None, max_length=120)


class ImportIn(EditNote):
    """A team's reason codes: one created theme each, all or none (`rca taxonomy import`)."""

    codes: list[ReasonCodeIn] = Field(default=[], max_length=500)
    from_attribute: str | None = Field(
        default=None,
        max_length=200,
        description="Instead of codes: one per value of this attribute of the contacts (a CRM "
        "disposition kept at ingest), made from the contacts carrying it.",
    )
    min_contacts: int = Field(default=5, ge=1, description="from_attribute: fewer are left out.")
    threshold: float = Field(default=0.5, gt=0, le=1)
    dry_run: bool = Field(default=False, description="Say what each would take; write nothing.")


class ImportSource(BaseModel):
    theme_id: str | None = Field(description="null: contacts no theme held.")
    label: str
    contacts: int


class LeftOutValue(BaseModel):
    value: str
    contacts: int


class ThresholdCount(BaseModel):
    threshold: float
    contacts: int


class ImportedCode(BaseModel):
    label: str
    status: str = Field(description="created, would create (dry run) or already a theme.")
    theme_id: str | None
    threshold: float
    contacts: int | None = Field(description="Contacts it took (null: already a theme).")
    from_themes: list[ImportSource] = Field(
        description="The themes (as curated before) its contacts came from, most first."
    )
    same_name_as: str | None = Field(
        default=None, description="A theme that already has this name (rename or merge them)."
    )
    coded: int | None = Field(
        default=None, description="Made from an attribute: the contacts carrying the code."
    )
    coded_taken: int | None = Field(
        default=None, description="Those of them the code takes (its agreement with the team)."
    )
    at_thresholds: list[ThresholdCount] = Field(
        default=[],
        description="Contacts it would take if every code of the import had that threshold "
        "(themes created before aside): to choose a threshold. Empty: already a theme.",
    )


class NotCoveredTheme(BaseModel):
    theme_id: str
    label: str
    contacts: int = Field(description="Its contacts before the import.")
    stay: int = Field(description="Those no code takes.")


class ImportOut(BaseModel):
    model_version: str
    dry_run: bool
    notes: list[str] = Field(
        default=[], description="What to check, e.g. codes that take over 90 % of the contacts."
    )
    themes_not_covered: list[NotCoveredTheme] = Field(
        default=[], description="Themes that keep at least half their contacts: no code names them."
    )
    changed: bool
    created: int
    already: int = Field(description="Codes a created theme already has: left alone.")
    contacts: int = Field(description="Contacts of the model.")
    contacts_taken: int = Field(description="Contacts the codes took (or would take).")
    codes: list[ImportedCode]
    too_few: list[LeftOutValue] = Field(
        default=[], description="Attribute values left out: fewer contacts than min_contacts."
    )


class SheetRowIn(BaseModel):
    """One row of a reviewed theme sheet; a field left out (or blank) stays as it is."""

    theme_id: str = ThemeId
    label: str | None = Field(default=None, max_length=500)
    parent_group: str | None = Field(default=None, max_length=500)
    hidden: bool | None = None
    merge_into: str | None = Field(
        default=None, max_length=40, description="The theme that takes this one."
    )


class SheetIn(EditNote):
    """A reviewed theme sheet (`rca taxonomy apply`): every change an edit, all or none."""

    rows: list[SheetRowIn] = Field(min_length=1, max_length=2000)
    dry_run: bool = Field(default=False, description="List the edits; write nothing.")


class SheetEdit(BaseModel):
    line: int = Field(description="The row it comes from (1 = the first row).")
    edit_id: str | None = Field(description="null on a dry run.")
    action: str = Field(description="rename | move | hide | unhide | merge")
    theme_id: str
    label: str | None = Field(description="The theme's name before the sheet.")
    field: str = Field(description="label | parent_group | hidden | takes (a merge)")
    from_: Any = Field(default=None, alias="from", description="The value before.")
    to: Any = Field(default=None, description="The value after (merge: the sources).")

    model_config = {"populate_by_name": True}


class SheetOut(BaseModel):
    model_version: str
    dry_run: bool
    changed: bool
    rows: int
    unchanged: int = Field(description="Rows that asked for nothing new.")
    edits: list[SheetEdit]
    themes: list[TaxonomyTheme] = Field(default=[], description="The themes edited, after.")


class VendorAlertsResponse(PeriodInfo):
    """`rca vendors --alerts`: handler-periods whose contacts, AHT or repeat rate jumped."""

    granularity: str
    level: str
    method: str
    notes: list[str] = Field(default_factory=list)
    scored: int
    alerts: list[dict[str, Any]]
