"""Is a refit due? Pure checks over the champion's assignments of recent contacts.

A daily refresh assigns new contacts to the champion's centroids without refitting, which is
right while the themes still describe what comes in. Two signs say they no longer do:

- **drift**: the share of recent contacts that match no theme rises above the share the fit
  itself left unassigned (by more than a margin, judged only on enough contacts);
- **a new dense region**: recent unassigned contacts that are dense among themselves
  (HDBSCAN on their own vectors) are a theme the model does not know yet.

Contacts of a *new* issue that resembles an old one (a close paraphrase of a known theme) are
absorbed by that theme instead of left unassigned; they show as that theme's spike
(`rca.queries.spike_report`), not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rca.cluster.density import CORE_DIST_JOBS
from rca.cluster.labels import label_themes
from rca.cluster.model import FENCE_IQRS
from rca.text.persons import NameFinder, person_words

if TYPE_CHECKING:
    from rca.settings import Settings

#: HDBSCAN on raw 384-d vectors is quadratic in memory; past this many unassigned contacts a
#: deterministic evenly spaced subset is clustered (region sizes are scaled back up).
MAX_REGION_CONTACTS = 20_000
#: Contact ids listed per new region, so a reader can open a few cases.
REGION_EXAMPLES = 5
KEYWORDS = 8


@dataclass(frozen=True)
class DriftRules:
    margin: float
    window_days: float
    min_window_contacts: int
    new_region_min_size: int

    @classmethod
    def from_settings(cls, settings: Settings) -> DriftRules:
        return cls(
            margin=settings.refresh_drift_margin,
            window_days=settings.refresh_window_days,
            min_window_contacts=settings.refresh_min_window_contacts,
            new_region_min_size=settings.refresh_new_region_min_size,
        )


@dataclass
class DriftCheck:
    """The recent window's unassigned share against the fit's own."""

    window_start: datetime | None
    window_end: datetime | None
    window_contacts: int
    window_unassigned: int
    unassigned_fraction: float | None
    fit_unassigned_fraction: float | None
    limit: float | None  # fit share + margin
    judged: bool  # enough contacts and a known fit share
    drifted: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class NewRegion:
    size: int
    label: str
    keywords: list[str]
    example_contact_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def recent_window(created_at: pd.Series, days: float) -> tuple[np.ndarray, datetime | None]:
    """Mask of the contacts in the `days` up to the newest one, and the window's start."""
    if created_at.empty:
        return np.zeros(0, dtype=bool), None
    newest = pd.Timestamp(created_at.max())
    start = newest - timedelta(days=days)
    return (created_at > start).to_numpy(dtype=bool), start.to_pydatetime()


def unassigned_drift(
    theme_ids: pd.Series, created_at: pd.Series, fit_fraction: float | None, rules: DriftRules
) -> DriftCheck:
    """Compare the recent window's unassigned share (theme id null or "") with the fit's."""
    mask, start = recent_window(created_at, rules.window_days)
    ids = theme_ids[mask]
    n = int(mask.sum())
    unassigned = int((ids.isna() | (ids.astype("string").fillna("") == "")).sum())
    share = unassigned / n if n else None
    known = fit_fraction is not None and np.isfinite(fit_fraction)
    limit = float(fit_fraction) + rules.margin if known else None
    judged = bool(known and n >= rules.min_window_contacts)
    return DriftCheck(
        window_start=start,
        window_end=pd.Timestamp(created_at.max()).to_pydatetime() if n else None,
        window_contacts=n,
        window_unassigned=unassigned,
        unassigned_fraction=share,
        fit_unassigned_fraction=float(fit_fraction) if known else None,
        limit=limit,
        judged=judged,
        drifted=bool(judged and share is not None and limit is not None and share > limit),
    )


def dense_regions(
    X: np.ndarray,
    texts: Sequence[str],
    contact_ids: Sequence[str],
    min_size: int,
    *,
    find_names: NameFinder | None = None,
) -> list[NewRegion]:
    """Dense clusters among (unassigned) contacts: HDBSCAN on their unit vectors, largest first.

    Euclidean distance on unit vectors orders pairs exactly as cosine does. A single cluster is
    allowed: a batch of unassigned contacts that is *all* one new issue is the clearest case.
    With ``find_names`` no region's label or keywords hold a person's name.
    """
    n = len(X)
    if n < min_size:
        return []
    rows = np.arange(n)
    if n > MAX_REGION_CONTACTS:
        rows = np.linspace(0, n - 1, MAX_REGION_CONTACTS).round().astype(np.int64)
    scale = n / len(rows)
    import hdbscan  # heavy import; only needed when there are enough unassigned contacts

    labels = hdbscan.HDBSCAN(
        min_cluster_size=max(2, int(np.ceil(min_size / scale))),
        cluster_selection_method="eom",
        allow_single_cluster=True,
        core_dist_n_jobs=CORE_DIST_JOBS,  # joblib workers cost seconds to start (density.py)
    ).fit_predict(np.asarray(X, dtype=np.float64)[rows])
    labels = _extend_to_noise(np.asarray(labels, dtype=np.int64), np.asarray(X)[rows])
    if (labels < 0).all():
        return []
    picked_texts = [texts[i] for i in rows]
    people = person_words(picked_texts, labels, find_names) if find_names else frozenset()
    named = label_themes(
        picked_texts, labels, top_n=KEYWORDS, min_df=1, person_words=people
    ).set_index("theme")
    regions = []
    for theme in np.unique(labels[labels >= 0]):
        members = rows[labels == theme]
        regions.append(
            NewRegion(
                size=round(len(members) * scale),
                label=str(named.loc[theme, "label"]) if theme in named.index else "",
                keywords=list(named.loc[theme, "keywords"]) if theme in named.index else [],
                example_contact_ids=[str(contact_ids[i]) for i in members[:REGION_EXAMPLES]],
            )
        )
    regions = [r for r in regions if r.size >= min_size]
    return sorted(regions, key=lambda r: (-r.size, r.label))


def _fence(similarities: np.ndarray) -> float:
    q1, q3 = np.quantile(similarities, [0.25, 0.75])
    return float(min(similarities.min(), q1 - FENCE_IQRS * (q3 - q1)))


def _extend_to_noise(labels: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Noise points close to a region's centre join it: cosine above the members' far-out
    fence (Q1 - 3 IQR, the rule `ThemeModel` learns its assignment threshold with).

    HDBSCAN that allows a single cluster keeps only its densest core as members (20 of 30
    tight paraphrases in the tests), which would under-report a region's size.
    """
    out = labels.copy()
    found = np.unique(labels[labels >= 0])
    noise = np.flatnonzero(labels < 0)
    if not len(found) or not len(noise):
        return out
    unit = X / np.clip(np.linalg.norm(X, axis=1, keepdims=True), 1e-12, None)
    centres = np.vstack([unit[labels == r].mean(axis=0) for r in found])
    centres /= np.clip(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12, None)
    floor = np.array([_fence(unit[labels == r] @ centres[i]) for i, r in enumerate(found)])
    sims = unit[noise] @ centres.T
    best = sims.argmax(axis=1)
    joins = sims[np.arange(len(noise)), best] >= floor[best]
    out[noise[joins]] = found[best[joins]]
    return out


def refit_verdict(drift: DriftCheck, regions: Sequence[NewRegion]) -> tuple[bool, list[str]]:
    """(refit due, one reason per sign) in words a program manager can act on."""
    reasons = []
    if drift.drifted:
        reasons.append(
            f"unassigned share of the last {drift.window_contacts} contacts is "
            f"{drift.unassigned_fraction:.1%}, above the fit's "
            f"{drift.fit_unassigned_fraction:.1%} + margin ({drift.limit:.1%})"
        )
    for region in regions:
        words = ", ".join(region.keywords[:5])
        reasons.append(
            f"new dense region of {region.size} unassigned contacts: {region.label} ({words})"
        )
    return bool(reasons), reasons
