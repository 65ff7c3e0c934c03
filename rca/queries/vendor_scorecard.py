"""Which handler's resolutions bring customers back, fairly compared: `rca vendors`.

Loads the repeat analysis (the same one `rca drivers` reads), chooses the period and calls the
pure scorecard (`rca.vendors.scorecard`). Agent ids are personal data: at the agent level they
are shown as a keyed hash (HMAC-SHA256 with a per-home key kept in RCA_HOME/pseudonym_key, or
`RCA_PSEUDONYM_KEY`), stable within a home so a manager can follow one agent over weeks
without the scorecard naming anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

import pandas as pd

from rca.errors import InvalidInputError
from rca.periods import period_of
from rca.queries.repeat_drivers import RepeatAnalysis, choose_period, load_repeat_analysis
from rca.repeats.drivers import has_customer_ids
from rca.repeats.examples import case_records, example_cases
from rca.settings import Settings
from rca.text.audience import RedactionPolicy
from rca.trends.spikes import SpikeConfig
from rca.vendors.jumps import track
from rca.vendors.scorecard import LEVELS, scorecard, shortfalls

#: Handler x theme cells listed under "where it falls short".
SHORTFALLS_SHOWN = 10


def pseudonym_key(settings: Settings) -> bytes:
    """The configured key, or one random key per home (created on first use)."""
    configured = settings.pseudonym_key.get_secret_value()
    if configured:
        return configured.encode()
    path = settings.home / "pseudonym_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def pseudonymise(values: pd.Series, key: bytes) -> pd.Series:
    """'agent-3f9a1c2e' for each id: the same id, the same pseudonym, within one home."""

    def one(value: object) -> object:
        if value is None or value != value:
            return value
        digest = hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()
        return f"agent-{digest[:8]}"

    return values.map(one)


def vendors_payload(
    settings: Settings,
    *,
    period: str = "latest",
    level: str = "vendor",
    span: int = 1,
    analysis: RepeatAnalysis | None = None,
) -> dict[str, Any]:
    """The `rca vendors` answer: one row per handler at `level`, with the notes to read it by.

    `span` > 1 covers that many periods ending with `period` (a quarter's review: 13 weeks):
    a weak site is often weak on one problem, and a week holds too few of its resolutions of
    that problem to tell (the demo's planted weak site shows only over its whole range).
    """
    if level not in LEVELS:
        raise InvalidInputError(f"--level must be one of {', '.join(LEVELS)}")
    if span < 1:
        raise InvalidInputError("--span must be at least 1")
    analysis = analysis or load_repeat_analysis(settings)
    chosen = choose_period(analysis, period, settings)
    first = chosen
    for _ in range(span - 1):
        first = period_of(first.start - timedelta(hours=12), first.kind, settings.tz)
    marked = _shown(analysis.marked, level, settings)
    start, end = pd.Timestamp(first.start), pd.Timestamp(chosen.end)
    card = scorecard(marked, level, start=start, end=end)
    cells = shortfalls(marked, level, start=start, end=end) if len(card) else pd.DataFrame()
    labels = dict(zip(analysis.themes["theme_id"], analysis.themes["label"], strict=True))
    if len(cells):
        cells = cells.assign(label=cells["problem_theme_id"].map(labels))
    notes = []
    if card.empty:
        notes.append(
            f"no contacts with a {level} in {chosen.name}: map the {level} field "
            "(docs/mapping.md) to see handler scorecards"
        )
    elif not has_customer_ids(marked):
        notes.append("no customer ids: repeats cannot be charged to anyone")
    if len(card) and card.get("window_open", pd.Series(dtype=float)).sum() > 0:
        notes.append(
            "some resolutions' repeat windows are still open: their outcome is not known yet "
            "and they are left out of the repeat rate"
        )
    return {
        "model_version": analysis.model_version,
        "period": chosen.name if span == 1 else f"{first.name}..{chosen.name}",
        "period_start": first.start,
        "period_end": chosen.end,
        "span": span,
        "level": level,
        "method": "leave-one-out indirect standardisation by problem theme and channel; "
        "score intervals; flags after Holm's correction at 5 %",
        "notes": notes,
        "handlers": _records(card),
        "shortfalls": _records(cells.head(SHORTFALLS_SHOWN)),
    }


#: Periods of a handler's series shown with its alerts: the baseline a period is judged by.
SERIES_SHOWN = {"week": 13, "day": 57}
TRACKING_METHOD = (
    "each handler against its own history: contacts and returns per closed resolution with the "
    "themes' spike scoring (quasi-Poisson GLM + EWMA), mean log handle time with a robust t "
    "(median and MAD of earlier periods); alpha per handler-period as for themes"
)


def vendor_alerts_payload(
    settings: Settings,
    *,
    period: str = "latest",
    level: str = "site",
    handler: str | None = None,
    analysis: RepeatAnalysis | None = None,
) -> dict[str, Any]:
    """`rca vendors --alerts`: the handlers whose contacts, handle time or repeat rate jumped
    in the period (a day or a week, as the period is named), and with `handler` its series."""
    if level not in LEVELS:
        raise InvalidInputError(f"--level must be one of {', '.join(LEVELS)}")
    analysis = analysis or load_repeat_analysis(settings)
    chosen = choose_period(analysis, period, settings)
    marked = _shown(analysis.marked, level, settings)
    config = SpikeConfig.from_settings(settings, kind=chosen.kind)
    series, scores = track(marked, level, chosen, settings.tz, config)
    notes = []
    if series is None:
        notes.append(f"no contacts with a {level}: map the {level} field (docs/mapping.md)")
    elif not len(scores):
        notes.append(f"no contacts in {chosen.name}")
    elif len(series.handlers) == 1:
        # the contacts' offset is the other handlers' work, and there is none: the GLM reads
        # the one handler's volume against its own history (a volume-wide surge is its jump)
        notes.append(
            f"one {level} only: its contacts are compared with its own earlier periods, not "
            f"with a share of the work other {level}s handled"
        )
    repeat_scored = scores.loc[scores["metric"] == "repeat_rate"] if len(scores) else scores
    if len(repeat_scored) and not repeat_scored["basis"].fillna(0).gt(0).any():
        notes.append(
            f"no repeat window of {chosen.name} has closed yet: its repeat rate is scored once "
            "the customers have had time to come back"
        )
    rows = scores.loc[scores["alert"].astype(bool)] if len(scores) else scores
    if handler is not None and len(scores):
        rows = rows.loc[rows[level].astype(str) == handler]
    answer: dict[str, Any] = {
        "period": chosen.name,
        "period_start": chosen.start,
        "period_end": chosen.end,
        "granularity": chosen.kind,
        "level": level,
        "method": TRACKING_METHOD,
        "notes": notes,
        "scored": int(len(scores)),
        "alerts": _records(rows.drop(columns=["basis"], errors="ignore")),
    }
    if handler is not None:
        shown = (
            series.long(handler).tail(SERIES_SHOWN[chosen.kind])
            if (series is not None and handler in series.handlers)
            else pd.DataFrame()
        )
        answer["series"] = _records(shown)
    return answer


def handler_chains(
    settings: Settings,
    analysis: RepeatAnalysis,
    level: str,
    handler: str,
    theme_id: str,
    n: int = 2,
) -> list[dict[str, Any]]:
    """Up to `n` repeat chains of `theme_id` in which `handler` resolved a contact the customer
    came back after, redacted for people: what to read with the vendor in a deep dive."""
    marked = _shown(analysis.marked, level, settings).reset_index(drop=True)
    if level not in marked:
        return []
    failed = marked["contact_id"].isin(set(marked["repeat_of"].dropna()))
    mine = failed & (marked[level].astype(str) == handler)
    chains = set(marked.loc[mine & (marked["problem_theme_id"] == theme_id), "chain_id"].dropna())
    if not chains:
        return []
    subset = marked.loc[marked["chain_id"].isin(chains)]
    policy = RedactionPolicy.from_settings(settings, "people")
    return case_records(example_cases(subset, theme_id, kind="repeat", n=n, policy=policy))


def _shown(marked: pd.DataFrame, level: str, settings: Settings) -> pd.DataFrame:
    """The frame as people may see it: at the agent level, agent ids as keyed hashes."""
    if level == "agent_id" and "agent_id" in marked:
        return marked.assign(agent_id=pseudonymise(marked["agent_id"], pseudonym_key(settings)))
    return marked


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
