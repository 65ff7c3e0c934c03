"""Planted SOP changes for the demo stream: one that works, one that does nothing, one that
works in one market only (issue 21), applied to a generated stream and described in the
manifest so `rca sop show` can be checked against a known answer.

- **effective**: from `effective` on, half of `EFFECTIVE_INTENT`'s repeat chains never start:
  their follow-ups become first contacts of other customers (the row count, the intent's
  volume and the time of day stay the same), so the share of its resolutions that bring the
  customer back halves while nothing else moves.
- **null**: a change recorded on `NULL_INTENT` at the same moment; the stream is untouched.
- **market**: from `effective` on, `MARKET_INTENT`'s escalations in `MARKET` fall to
  `MARKET_FACTOR` of what they were (each kept with that probability); other markets keep
  theirs, so only a change measured in that market shows it.

Pure: frames and a seed in, frames out.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

EFFECTIVE_INTENT = "bitext:contact_human_agent"
NULL_INTENT = "bitext:registration_problems"
MARKET_INTENT = "b77:Refund_not_showing_up"
MARKET = "UK"
REPEAT_FACTOR = 0.5
MARKET_FACTOR = 0.3
#: `rca demo` records a change on every theme holding at least this share of its intent.
MIN_INTENT_SHARE = 0.1
#: The changes take effect on the Monday this many weeks before the stream's last week ends.
WEEKS_BEFORE_END = 8
STOPPED_CUSTOMER_PREFIX = "V"  # customers of the follow-ups a working SOP prevented
SEED_OFFSET = 21


def effective_day(end: date) -> date:
    """The Monday the planted changes take effect (`end` is the stream's last Sunday)."""
    return end + timedelta(days=1) - timedelta(weeks=WEEKS_BEFORE_END)


def plant_sop_changes(
    contacts: pd.DataFrame,
    truth: pd.DataFrame,
    manifest: dict[str, Any],
    *,
    end: date,
    seed: int,
    escalated_note: str,
    handle_escalated: float,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The stream with the three changes planted, and the manifest's `sop_changes` entry."""
    rng = np.random.default_rng(seed + SEED_OFFSET)
    contacts, truth = contacts.copy(), truth.copy()
    day = effective_day(end)
    local_day = contacts["created_at"].str.slice(0, 10)
    after = (local_day >= day.isoformat()).to_numpy()
    intent = truth["intent"].to_numpy()

    # effective: stop half the chains whose first contact falls after the change
    chain = truth["chain_id"].to_numpy(dtype=object, copy=True)
    pos = truth["chain_pos"].to_numpy(copy=True)
    heads = np.flatnonzero((intent == EFFECTIVE_INTENT) & (pos == 1) & after)
    picked = rng.permutation(len(heads))[: round(len(heads) * (1 - REPEAT_FACTOR))]
    stopped = set(chain[heads[np.sort(picked)]])
    rows_stopped = np.isin(chain, list(stopped)) & (chain != "")
    followups = np.flatnonzero(rows_stopped & (pos >= 2))
    customers = contacts["customer_id"].to_numpy(dtype=object).copy()
    customers[followups] = [f"{STOPPED_CUSTOMER_PREFIX}{i:06d}" for i in range(len(followups))]
    contacts["customer_id"] = customers
    truth.loc[rows_stopped, "chain_id"] = ""
    truth.loc[rows_stopped, "chain_pos"] = 0
    rate_rows = (intent == EFFECTIVE_INTENT) & after
    brought_back_before = _mean(_brought_back(chain, pos)[rate_rows])
    brought_back_after = _mean(_brought_back(truth["chain_id"].to_numpy(),
                                             truth["chain_pos"].to_numpy())[rate_rows])  # fmt: skip

    # market: fewer escalations in one market only
    market = contacts["market"].to_numpy()
    scoped = (intent == MARKET_INTENT) & after & (market == MARKET)
    escalated = contacts["is_escalation"].to_numpy(bool).copy()
    undone = np.flatnonzero(scoped & escalated & (rng.random(len(contacts)) >= MARKET_FACTOR))
    escalated[undone] = False
    contacts["is_escalation"] = escalated
    handle = contacts["handle_time_s"].to_numpy().copy()
    handle[undone] = np.rint(handle[undone] / handle_escalated).astype(handle.dtype)
    contacts["handle_time_s"] = handle
    notes = contacts["resolution"].to_numpy(dtype=object).copy()
    notes[undone] = np.where(notes[undone] == escalated_note, "", notes[undone])
    contacts["resolution"] = notes

    manifest = dict(manifest)
    stopped_heads = set(contacts["contact_id"].to_numpy()[rows_stopped & (pos == 1)])
    kept = [c for c in manifest.get("repeat_chains", []) if c[0] not in stopped_heads]
    manifest["repeat_chains"] = kept
    counts = dict(manifest.get("counts", {}))
    counts |= {
        "repeat_chains": len(kept),
        "repeat_followups": int((truth["chain_pos"] >= 2).sum()),
        "escalations": int(escalated.sum()),
        "with_resolution": int((contacts["resolution"] != "").sum()),
        "customers": int(contacts.loc[contacts["customer_id"] != "", "customer_id"].nunique()),
    }
    manifest["counts"] = counts
    before_market = (intent == MARKET_INTENT) & ~after & (market == MARKET)
    manifest["sop_changes"] = [
        {
            "kind": "effective", "intent": EFFECTIVE_INTENT, "effective": day.isoformat(),
            "title": "Human-agent requests: callback booked in the first reply",
            "metric": "repeat rate", "factor": REPEAT_FACTOR, "scope": {},
            "chains_stopped": len(stopped), "followups_moved": len(followups),
            # the share of the intent's contacts after the change that brought the customer
            # back, as generated: the planted effect is the difference
            "truth_repeat_rate_after": {"without_change": brought_back_before,
                                        "with_change": brought_back_after},
        },
        {
            "kind": "null", "intent": NULL_INTENT, "effective": day.isoformat(),
            "title": "Registration problems: new greeting macro", "metric": None,
            "factor": 1.0, "scope": {},
        },
        {
            "kind": "market", "intent": MARKET_INTENT, "effective": day.isoformat(),
            "title": "Refund not showing: UK team checks the bank reference first",
            "metric": "escalation rate", "factor": MARKET_FACTOR, "scope": {"market": MARKET},
            "escalations_removed": len(undone),
            "truth_escalation_rate_in_market": {
                "before": _mean(contacts["is_escalation"].to_numpy()[before_market]),
                "after": _mean(escalated[scoped]),
            },
        },
    ]  # fmt: skip
    return contacts, truth, manifest


def _mean(flags: np.ndarray) -> float | None:
    """A share rounded for the manifest; None when there is nothing to share out."""
    return round(float(flags.mean()), 4) if len(flags) else None


def _brought_back(chain: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Whether each row is a chain contact that a later one in its chain followed."""
    frame = pd.DataFrame({"chain": chain, "pos": pos})
    last = frame.loc[frame["chain"] != ""].groupby("chain")["pos"].transform("max")
    out = np.zeros(len(chain), bool)
    out[last.index.to_numpy()] = (frame.loc[last.index, "pos"] < last).to_numpy()
    return out


def themes_for_intents(
    truth: pd.DataFrame, assignments: pd.DataFrame, intents: list[str]
) -> dict[str, str | None]:
    """The theme holding most of each intent's contacts (where `rca demo` records the change)."""
    joined = truth.merge(assignments, on="contact_id").dropna(subset=["theme_id"])
    out: dict[str, str | None] = {}
    for intent in intents:
        mine = joined.loc[joined["intent"] == intent, "theme_id"]
        out[intent] = str(mine.value_counts().index[0]) if len(mine) else None
    return out


def themes_holding_intents(
    truth: pd.DataFrame,
    assignments: pd.DataFrame,
    intents: list[str],
    *,
    min_share: float = MIN_INTENT_SHARE,
) -> dict[str, list[str]]:
    """Every theme holding at least `min_share` of each intent's contacts, most first: where
    `rca demo` records the change, as an SOP author naming all the themes the clustering spread
    the problem over would (the odd contact elsewhere is clustering noise, not the problem)."""
    joined = truth.merge(assignments, on="contact_id").dropna(subset=["theme_id"])
    out: dict[str, list[str]] = {}
    for intent in intents:
        counts = joined.loc[joined["intent"] == intent, "theme_id"].value_counts()
        shares = counts / counts.sum() if len(counts) else counts
        out[intent] = [str(t) for t, share in shares.items() if share >= min_share]
    return out
