"""The granularity decision: chosen by the data once, kept by later refits.

A data-chosen rule (PLSCAN's persistence layers, the persistence size) reads the number of
themes off a density hierarchy whose peaks are shallow, so a refit that re-derives it lands on
another layer whenever the UMAP seed or a week of data tips the balance (Bitext: 33 themes, then
19; 0.71 of contacts kept their theme id). Readers see that as the taxonomy changing under them.
So the first fit's choice is stored with the model and a refit inherits it: the same smallest
theme size, scaled to the rows the refit sees, cut from the refit's own hierarchy (for PLSCAN
the condensed tree's leaves at that size, which reproduce its layer). A person asks for a new
choice explicitly (``rca fit --rechoose-granularity``). Measured in
experiments/results/granularity.md ("Granularity kept by refits"). Since stop 55 the choice
itself is the median of three UMAP layouts' (``ThemeModel.size_votes``), so one layout that
lands far from the others no longer fixes the taxonomy's grain for every refit after it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from rca.cluster.density import MIN_CLUSTER_SIZE_CEILING, MIN_CLUSTER_SIZE_FLOOR

#: Rules whose choice a refit keeps, and the HDBSCAN selection that reproduces it at its size.
INHERITED_SELECTION = {"plscan": "leaf", "persistence": "eom"}


@dataclass(frozen=True)
class Granularity:
    """What a fit's rule chose: its smallest theme size at granularity 1, on how many rows."""

    rule: str  # size | persistence | layers | plscan (RCA_FIT_THEME_SIZE)
    theme_size: float  # smallest theme size, scaled to granularity 1
    fit_rows: int  # rows UMAP and HDBSCAN saw when it was chosen
    chosen_on: str  # model version whose fit chose it
    kept: bool = False  # True when this fit inherited it rather than chose it

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> Granularity | None:
        """The stored decision, or None for fits from before it was stored (or unreadable)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                rule=str(data["rule"]),
                theme_size=float(data["theme_size"]),
                fit_rows=int(data["fit_rows"]),
                chosen_on=str(data["chosen_on"]),
                kept=bool(data.get("kept", False)),
            )
        except (ValueError, KeyError, TypeError):
            return None


def inherits(rule: str, previous: Granularity | None, rechoose: bool) -> bool:
    """Whether a refit under ``rule`` keeps ``previous``'s choice."""
    return (
        not rechoose
        and rule in INHERITED_SELECTION
        and previous is not None
        and previous.rule == rule
        and previous.fit_rows > 0
        and previous.theme_size > 0
    )


def inherited_size(previous: Granularity, fit_rows: int, granularity: float = 1.0) -> int:
    """The kept smallest theme size for a refit on ``fit_rows`` rows at ``granularity``.

    Scaled with the rows, since a theme's share of the contacts, not its count, is what the
    rule chose; divided by the granularity the user asks for, like the size rule.
    """
    size = previous.theme_size * fit_rows / previous.fit_rows / granularity
    return int(min(max(round(size), MIN_CLUSTER_SIZE_FLOOR), MIN_CLUSTER_SIZE_CEILING))


def model_params(
    rule: str,
    previous: Granularity | None,
    fit_rows: int,
    granularity: float,
    rechoose: bool = False,
) -> dict[str, object]:
    """``ThemeModel`` keyword arguments for a fit under ``rule`` after ``previous``."""
    if inherits(rule, previous, rechoose):
        assert previous is not None
        return {
            "min_cluster_size": inherited_size(previous, fit_rows, granularity),
            "cluster_selection": INHERITED_SELECTION[rule],
        }
    return {"min_cluster_size": None if rule == "size" else rule}


def decision(
    rule: str,
    previous: Granularity | None,
    *,
    chosen_size: int,
    fit_rows: int,
    granularity: float,
    version: str,
    kept: bool,
) -> Granularity:
    """The decision to store with a new fit: the inherited one, or what this fit chose."""
    if kept and previous is not None:
        return Granularity(previous.rule, previous.theme_size, previous.fit_rows,
                           previous.chosen_on, kept=True)  # fmt: skip
    return Granularity(rule, chosen_size * granularity, fit_rows, version, kept=False)
