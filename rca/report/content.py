"""What the report says, as plain data: ordered spikes, new themes, drivers and their cases.

Pure: payloads from `rca.queries.spike_report` / `rca.queries.repeat_drivers` in, a frozen
`ReportModel` out. Rendering (HTML, text, charts) only formats what is decided here, so both
mail parts carry the same facts and tests can check the decisions without parsing HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

import numpy as np
import pandas as pd

from rca.repeats.drivers import basis_heading, theme_note
from rca.text.moments import moment_text
from rca.text.redact import redact

#: Most severe first; within a severity the smallest q-value (the surest alert) first.
SEVERITY_ORDER = ("high", "medium", "low")
NEW_THEME = "new_theme"
#: Characters of a case's text shown; the rest is one click away on the service.
CASE_TEXT_CHARS = 280
#: Half-width of the baseline band in standard deviations of the baseline counts.
BAND_SD = 2.0
#: Refit proposals quoted in the e-mail, at most; the rest are counted and one click away.
TAXONOMY_LINES = 5
KIND_WORDS = {"burst": "burst", "sustained_rise": "sustained rise", NEW_THEME: "new theme"}


@dataclass(frozen=True)
class Case:
    """One redacted example contact, as the mail shows it."""

    contact_id: str
    created_at: str
    channel: str
    escalated: bool
    text: str


@dataclass(frozen=True)
class Chart:
    """A theme's last periods and the band its baseline periods stayed in."""

    periods: tuple[str, ...]
    counts: tuple[int, ...]
    band_low: float
    band_high: float
    expected: float  # the model's expectation for the last period
    partial: bool = False  # the last period is not over yet


@dataclass(frozen=True)
class SpikeItem:
    theme_id: str
    label: str
    kind: str
    severity: str
    observed: int
    expected: float
    growth: float
    q_value: float
    root_cause: str
    first_seen: str | None
    link: str
    examples_link: str
    chart: Chart | None = None
    cases: tuple[Case, ...] = ()
    note: str | None = None  # the theme's description: template text, one company

    @property
    def kind_words(self) -> str:
        return KIND_WORDS.get(self.kind, self.kind.replace("_", " "))

    @property
    def chart_name(self) -> str:
        """File / content-id name of this spike's chart."""
        return f"chart-{self.theme_id}.png"


@dataclass(frozen=True)
class DriverItem:
    rank: int
    theme_id: str
    label: str
    score: float
    summary: str
    repeat_contacts: int
    repeat_rate: float | None
    spike_status: str | None
    link: str
    cases: tuple[Case, ...] = ()
    note: str | None = None  # the theme's description: template text, one company
    themes: tuple[str, ...] = ()  # a parent group's themes, "Name (T0003)", at the parent level


@dataclass(frozen=True)
class ReportModel:
    """Everything one e-mail says; `facts()` is its JSON-able summary."""

    period: str
    period_kind: str
    period_start: datetime
    period_end: datetime
    model_version: str | None
    generated_at: datetime
    base_url: str
    spikes: tuple[SpikeItem, ...] = ()
    new_themes: tuple[SpikeItem, ...] = ()
    drivers: tuple[DriverItem, ...] = ()
    note: str = ""
    partial: bool = False
    surge: str = ""  # the volume-wide surge, when all contacts rose: it leads the message
    drivers_basis: str = "repeats"  # or "contacts": a store without customer ids
    drivers_heading: str = "repeat-complaint drivers"  # what is ranked, less what is unmeasured
    drivers_note: str = ""
    vendor_lines: tuple[str, ...] = ()  # sites whose repeats stand out, given their mix
    sop_significant: tuple[str, ...] = ()  # SOP changes whose effect became significant
    sop_no_effect: tuple[str, ...] = ()  # changes N weeks old with no effect: revise again
    taxonomy_lines: tuple[str, ...] = ()  # the refit's proposals no person has answered yet
    taxonomy_open: int = 0  # how many there are (the lines stop at TAXONOMY_LINES)

    @property
    def taxonomy_link(self) -> str:
        """The dashboard page where a person answers the proposals."""
        return f"{self.base_url.rstrip('/')}/ui/taxonomy"

    @property
    def n_spikes(self) -> int:
        return len(self.spikes) + len(self.new_themes)

    @property
    def quiet(self) -> bool:
        return self.n_spikes == 0 and not self.surge

    @property
    def period_words(self) -> str:
        return f"{'week' if self.period_kind == 'week' else 'day'} {self.period}"

    @property
    def date_range(self) -> str:
        """'16–22 Nov 2026' (local days; the stored end is the exclusive next midnight)."""
        first = self.period_start.date()
        last = (self.period_end - timedelta(microseconds=1)).date()
        if first == last:
            return f"{first:%d %b %Y}"
        if (first.year, first.month) == (last.year, last.month):
            return f"{first:%d}–{last:%d %b %Y}"
        return f"{first:%d %b} – {last:%d %b %Y}"

    @property
    def subject(self) -> str:
        return subject_for(
            self.n_spikes, len(self.new_themes), self.period_words, surge=bool(self.surge)
        )

    def charted(self) -> list[SpikeItem]:
        """Items that carry a chart, in reading order (each becomes one inline image)."""
        return [s for s in (*self.spikes, *self.new_themes) if s.chart is not None]


def subject_for(n_spikes: int, n_new: int, period_words: str, *, surge: bool = False) -> str:
    """'rca: 3 emerging spikes (1 new theme), week 2026-W46' or 'rca: all quiet, …'; a
    volume surge comes first ('rca: volume surge and 2 emerging spikes, …')."""
    lead = "volume surge" if surge else ""
    if n_spikes == 0:
        return f"rca: {lead}, {period_words}" if surge else f"rca: all quiet, {period_words}"
    noun = "spike" if n_spikes == 1 else "spikes"
    new = f" ({n_new} new theme{'s' if n_new != 1 else ''})" if n_new else ""
    spikes = f"{n_spikes} emerging {noun}{new}"
    return f"rca: {lead + ' and ' if surge else ''}{spikes}, {period_words}"


def surge_sentence(total: Mapping[str, Any]) -> str:
    """The volume-wide surge in one sentence, with what drove it ('' when none)."""
    if not total or not total.get("alert"):
        return ""
    cause = (total.get("root_cause") or {}).get("sentence", "")
    return (
        f"All contacts rose to {total['observed']:,} against {total['expected']:,.0f} expected "
        f"(×{total['growth']:.1f}, {total['severity']}). {cause}"
    ).strip()


def theme_link(base_url: str, theme_id: str, *, examples: bool = False) -> str:
    """The service's page for a theme (`/v1/themes/{id}`, or its `/examples`)."""
    link = f"{base_url.rstrip('/')}/v1/themes/{theme_id}"
    return f"{link}/examples" if examples else link


def spike_order(spikes: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Severity (high first), then q-value, then the larger excess: the surest, biggest first."""

    def key(s: Mapping[str, Any]) -> tuple[int, float, float]:
        sev = s.get("severity")
        rank = SEVERITY_ORDER.index(sev) if sev in SEVERITY_ORDER else len(SEVERITY_ORDER)
        q = s.get("q_value")
        return rank, float(q) if q is not None else 1.0, -float(s.get("excess") or 0.0)

    return sorted(spikes, key=key)


def baseline_band(
    counts: Sequence[float], *, recent: int = 0, sd: float = BAND_SD
) -> tuple[float, float]:
    """The range the theme usually stays in: mean ± `sd` standard deviations of the counts
    before the last `recent` periods (the spike test's monitor window, so a build-up does not
    widen its own band), or before the last one when the chart is too short for that. A plain,
    explainable band; the test itself is the GLM's."""
    quiet = len(counts) - recent
    before = np.asarray(counts[:quiet] if quiet >= 2 else counts[:-1], dtype=float)
    if before.size == 0:
        return 0.0, 0.0
    mean = float(before.mean())
    spread = float(before.std(ddof=1)) if before.size > 1 else 0.0
    return max(0.0, mean - sd * spread), mean + sd * spread


def make_chart(
    periods: Sequence[str],
    counts: Sequence[int],
    expected: float,
    *,
    recent: int = 0,
    partial: bool = False,
) -> Chart:
    low, high = baseline_band(counts, recent=recent)
    return Chart(
        periods=tuple(periods),
        counts=tuple(int(c) for c in counts),
        band_low=low,
        band_high=high,
        expected=float(expected),
        partial=partial,
    )


def make_case(
    record: Mapping[str, Any],
    *,
    min_digit_run: int,
    keep_handles: Sequence[str] = (),
    tz: tzinfo | None = None,
) -> Case:
    """A case for the mail: text re-redacted (defence in depth) and shortened to one glance.

    Cases reach here from `rca.repeats.examples.example_cases`, already redacted for people
    (names and addresses by NER); this pass repeats the patterns only, with the same kept
    @handles so the brand's own handle reads the same in the mail as on the dashboard.
    """
    text = redact(
        str(record.get("text") or ""), min_digit_run=min_digit_run, keep_handles=keep_handles
    )
    text = " ".join(text.split())
    if len(text) > CASE_TEXT_CHARS:
        text = text[: CASE_TEXT_CHARS - 1].rstrip() + "…"
    # the day in the service's zone: a date-only export read in London stores 9 May as 8 May
    # 23:00 UTC, and the mail said "2023-05-08" for a complaint received on the 9th
    created = _iso_day(record.get("created_at"), tz) or ""
    return Case(
        contact_id=str(record.get("contact_id")),
        created_at=created[:10],
        channel=str(record.get("channel") or ""),
        escalated=bool(record.get("is_escalation") or False),
        text=text,
    )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _iso_day(value: Any, tz: tzinfo | None = None) -> str | None:
    """The local date of a stored moment (UTC when ``tz`` is None)."""
    if _missing(value) or value is pd.NaT:
        return None
    return moment_text(value, tz, date_only=True)[:10]


def spike_item(
    spike: Mapping[str, Any],
    base_url: str,
    *,
    chart: Chart | None = None,
    cases: Sequence[Case] = (),
    note: object = None,
    tz: tzinfo | None = None,
) -> SpikeItem:
    theme_id = str(spike["theme_id"])
    cause = spike.get("root_cause") or {}
    return SpikeItem(
        theme_id=theme_id,
        label=str(spike.get("label") or theme_id),
        kind=str(spike.get("kind")),
        severity=str(spike.get("severity")),
        observed=int(spike.get("observed") or 0),
        expected=float(spike.get("expected") or 0.0),
        growth=float(spike.get("growth") or 0.0),
        q_value=float(spike["q_value"]) if spike.get("q_value") is not None else 1.0,
        root_cause=str(cause.get("sentence") or ""),
        first_seen=_iso_day(spike.get("first_seen"), tz),
        link=theme_link(base_url, theme_id),
        examples_link=theme_link(base_url, theme_id, examples=True),
        chart=chart,
        cases=tuple(cases),
        note=theme_note(note),
    )


def driver_item(
    driver: Mapping[str, Any],
    base_url: str,
    *,
    cases: Sequence[Case] = (),
    theme_names: Mapping[str, str] | None = None,
    period: str = "",
) -> DriverItem:
    """One driver as the e-mail shows it. A parent group (``theme_ids`` set) links to the
    service's parent view of the period and lists its themes by name."""
    figures = driver.get("figures") or {}
    rate = figures.get("repeat_rate")
    members = [str(t) for t in driver.get("theme_ids") or ()]
    if members == [str(driver["theme_id"])]:
        members = []  # no useful parent level: each theme is its own group, shown as a theme
    names = theme_names or {}
    link = theme_link(base_url, str(driver["theme_id"]))
    if members:
        link = f"{base_url.rstrip('/')}/v1/themes?granularity=parent&period={period or 'latest'}"
    return DriverItem(
        rank=int(driver["rank"]),
        theme_id=str(driver["theme_id"]),
        label=str(driver.get("label") or driver["theme_id"]),
        score=float(driver.get("score") or 0.0),
        summary=str(driver.get("summary") or ""),
        repeat_contacts=int(figures.get("repeat_contacts") or 0),
        repeat_rate=None if _missing(rate) else float(rate),
        spike_status=None
        if _missing(status := driver.get("spike_status"))
        else str(status).replace("_", " "),
        link=link,
        cases=tuple(cases),
        note=theme_note(driver.get("description")),
        themes=tuple(f"{names.get(t) or t} ({t})" for t in members),
    )


def build_report(
    spikes_payload: Mapping[str, Any],
    drivers: Sequence[Mapping[str, Any]],
    *,
    base_url: str,
    generated_at: datetime,
    charts: Mapping[str, Chart] | None = None,
    cases: Mapping[str, Sequence[Case]] | None = None,
    driver_cases: Mapping[str, Sequence[Case]] | None = None,
    drivers_basis: str = "repeats",
    drivers_heading: str | None = None,
    drivers_note: str = "",
    vendor_lines: Sequence[str] = (),
    sop_significant: Sequence[str] = (),
    sop_no_effect: Sequence[str] = (),
    taxonomy_proposals: Sequence[str] = (),
    notes: Mapping[str, object] | None = None,
    theme_names: Mapping[str, str] | None = None,
    tz: tzinfo | None = None,
) -> ReportModel:
    """The report for one period: spikes by severity, then new themes, then drivers.

    `notes` maps theme ids to their descriptions (template text, one company), shown beside
    each spike; `theme_names` names the themes listed under a parent-group driver."""
    charts, cases, driver_cases, notes = charts or {}, cases or {}, driver_cases or {}, notes or {}
    ordered = spike_order(spikes_payload.get("spikes") or [])
    items = [
        spike_item(
            s,
            base_url,
            chart=charts.get(s["theme_id"]),
            cases=cases.get(s["theme_id"], ()),
            note=notes.get(s["theme_id"]),
            tz=tz,
        )  # fmt: skip
        for s in ordered
    ]
    return ReportModel(
        period=str(spikes_payload["period"]),
        period_kind=str(spikes_payload.get("period_kind") or "week"),
        period_start=spikes_payload["period_start"],
        period_end=spikes_payload["period_end"],
        model_version=spikes_payload.get("model_version"),
        generated_at=generated_at,
        base_url=base_url,
        spikes=tuple(i for i in items if i.kind != NEW_THEME),
        new_themes=tuple(i for i in items if i.kind == NEW_THEME),
        drivers=tuple(
            driver_item(
                d,
                base_url,
                cases=driver_cases.get(str(d["theme_id"]), ()),
                theme_names=theme_names,
                period=str(spikes_payload["period"]),
            )
            for d in drivers
        ),
        note=str(spikes_payload.get("note") or ""),
        partial=bool(spikes_payload.get("partial")),
        surge=surge_sentence(spikes_payload.get("total") or {}),
        drivers_basis=drivers_basis,
        drivers_heading=drivers_heading or basis_heading(drivers_basis),
        drivers_note=drivers_note,
        vendor_lines=tuple(vendor_lines),
        sop_significant=tuple(sop_significant),
        sop_no_effect=tuple(sop_no_effect),
        taxonomy_lines=tuple(mail_wording(m) for m in taxonomy_proposals[:TAXONOMY_LINES]),
        taxonomy_open=len(taxonomy_proposals),
    )


def mail_wording(message: str) -> str:
    """A proposal as the e-mail says it: without the CLI commands that end it ("...: `rca
    taxonomy split T0002 --proposed` previews this cut, ..."), which a manager answers on the
    taxonomy page the section links to. The clause from the last ': ' before the first command
    on is left out; a message without commands is unchanged."""
    tick = message.find("`")
    if tick < 0:
        return message
    cut = message.rfind(": ", 0, tick)
    head = message[:cut] if cut > 0 else message[:tick]
    head = head.rstrip(" ,;:.")
    return f"{head}." if head else message


def sop_lines(digest: Mapping[str, Sequence[Mapping[str, Any]]]) -> tuple[list[str], list[str]]:
    """The e-mail's SOP section from `rca.queries.sop_effects.sop_digest`: one line per
    effect that became significant this period, one per change with none after N weeks."""
    significant = [
        f"{d['title']} ({d['change_id']}, {d['theme_id']}): {d['sentence']}"
        for d in digest.get("became_significant", ())
    ]
    flat = [
        f"{d['title']} ({d['change_id']}, {d['theme_id']}), {d['weeks']} weeks in: "
        f"{d['sentence']} — a candidate for another revision"
        for d in digest.get("no_effect", ())
    ]
    return significant, flat
