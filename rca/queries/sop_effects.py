"""Did an SOP change work? Its theme's repeat and escalation rates against the other themes.

Per period (the store's `RCA_PERIOD`), from the repeat analysis every command shares: the
theme's resolutions and the returns they brought (charged as in `rca drivers`), and its
contacts and escalations, beside the same counts for every other theme. The period that holds
the effective moment is neither before nor after and is left out. A change scoped to a market,
channel or vendor is measured inside that scope only, for the theme and its comparison alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rca.periods import periods_between
from rca.queries.repeat_drivers import RepeatAnalysis, load_repeat_analysis
from rca.settings import Settings
from rca.sop.effect import did_effect
from rca.store import Store
from rca.store.sop import SopChange, audit_trail, get_change
from rca.trends.series import period_names
from rca.vendors.scorecard import BROUGHT_BACK, resolution_attempts


def change_report(
    settings: Settings, change_id: str, *, analysis: RepeatAnalysis | None = None
) -> dict[str, Any]:
    """`rca sop show`: the change, its audit trail and its measured effects."""
    with Store(settings.store_path).read() as con:
        change = get_change(con, change_id)
        audit = audit_trail(con, change_id)
    analysis = analysis or load_repeat_analysis(settings)
    return {
        "change": change.as_dict(),
        "audit": audit,
        "effects": change_effects(analysis, change, settings),
    }


def change_effects(
    analysis: RepeatAnalysis, change: SopChange, settings: Settings
) -> dict[str, dict[str, Any]]:
    """Repeat rate and escalation rate of the change's theme, before vs after, against the
    other themes (`rca.sop.effect.did_effect`)."""
    marked = _in_scope(analysis.marked, change.scope)
    kind, tz = settings.period, settings.tz
    coverage = analysis.coverage
    periods = periods_between(coverage.first, coverage.newest, kind, tz)
    names = [p.name for p in periods]
    effective = pd.Timestamp(change.effective_at)
    side = np.array(
        [1 if p.start >= effective else (0 if p.end <= effective else -1) for p in periods]
    )
    change_at = int(np.argmax(side == 1)) if (side == 1).any() else len(periods)
    out: dict[str, dict[str, Any]] = {}
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
    for metric, (rows, theme_column, outcome) in frames.items():
        counts = _per_period(rows, theme_column, outcome, change.theme_id, names, kind, tz)
        counts[:, side == -1] = 0  # the period holding the change is neither before nor after
        effect = did_effect(*counts, change_at, metric=metric)
        out[metric] = effect.as_dict()
    return out


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
    theme_id: str,
    names: list[str],
    kind: str,
    tz: Any,
) -> np.ndarray:
    """(theme events, theme total, other events, other total) per period, as a 4 x T array."""
    if rows.empty:
        return np.zeros((4, len(names)))
    period = period_names(pd.to_datetime(rows["created_at"], utc=True), kind, tz)
    mine = (rows[theme_column] == theme_id).fillna(False).to_numpy(bool)
    frame = pd.DataFrame({"period": period.to_numpy(), "mine": mine, "y": outcome.to_numpy()})
    table = frame.groupby(["mine", "period"])["y"].agg(["sum", "size"])
    out = np.zeros((4, len(names)))
    for row, (flag, column) in enumerate(((True, "sum"), (True, "size"), (False, "sum"),
                                          (False, "size"))):  # fmt: skip
        if flag in table.index.get_level_values(0):
            out[row] = table.loc[flag, column].reindex(names, fill_value=0).to_numpy(float)
    return out
