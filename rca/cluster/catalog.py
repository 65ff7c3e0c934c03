"""The serving form of a fitted theme model: ids, labels, centroids and the assignment rule.

A `ThemeCatalog` is all that assignment needs (no UMAP, no HDBSCAN), so it is what MLflow
registers as `rca-themes` and what `rca assign` and the API load as the champion. Assignment is
nearest centroid by cosine similarity, computed row by row in float64, so one contact alone
and the same contact in a batch of thousands always get the same theme and score.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rca.cluster.model import nearest

UNASSIGNED_ID = ""
CATALOG_JSON = "catalog.json"
CENTROIDS_NPY = "centroids.npy"


def assign_to_centroids(
    X: np.ndarray, centroids: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest centroid or -1 below `threshold`, cosine similarity) per row.

    The same row-independent arithmetic as `ThemeModel.predict`, so the served catalog and the
    fitted model can never disagree, and a row's answer never depends on its batch.
    """
    X64 = np.atleast_2d(np.asarray(X, dtype=np.float64))
    C64 = np.asarray(centroids, dtype=np.float64)
    if len(C64) == 0 or len(X64) == 0:
        return np.full(len(X64), -1, dtype=np.int64), np.zeros(len(X64))
    best, score = nearest(X64, C64)  # first maximum: ties go to the lowest index
    return np.where(score >= threshold, best, -1).astype(np.int64), score


@dataclass
class ThemeCatalog:
    model_version: str
    encoder_id: str
    trained_at: str
    assign_threshold: float
    theme_ids: list[str]
    labels: list[str]
    keywords: list[list[str]]
    parent_ids: list[str]
    parent_labels: dict[str, str]
    sizes: list[int]
    centroids: np.ndarray = field(repr=False)
    metrics: dict[str, float] = field(default_factory=dict)
    # what a manager should know before reading a theme (template campaign, one company):
    # `rca.cluster.labels.theme_descriptions`, by theme id
    descriptions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.centroids = np.asarray(self.centroids, dtype=np.float32)

    @property
    def n_themes(self) -> int:
        return len(self.theme_ids)

    def assign(self, X: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Theme id per row ("" when unassigned) and the cosine similarity to it."""
        index, score = assign_to_centroids(X, self.centroids, self.assign_threshold)
        ids = [self.theme_ids[i] if i >= 0 else UNASSIGNED_ID for i in index]
        return ids, score

    def table(self) -> pd.DataFrame:
        """One row per theme, for printing, MLflow artifacts and the store."""
        return pd.DataFrame(
            {
                "theme_id": self.theme_ids,
                "label": self.labels,
                "keywords": self.keywords,
                "parent_id": self.parent_ids,
                "parent_label": [self.parent_labels.get(p, "") for p in self.parent_ids],
                "size": self.sizes,
                "description": [self.descriptions.get(t) for t in self.theme_ids],
            }
        )

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        meta = asdict(self)
        meta.pop("centroids")
        (folder / CATALOG_JSON).write_text(json.dumps(meta, indent=2, sort_keys=True))
        np.save(folder / CENTROIDS_NPY, self.centroids)
        return folder

    @classmethod
    def load(cls, folder: Path) -> ThemeCatalog:
        meta = json.loads((Path(folder) / CATALOG_JSON).read_text())
        return cls(**meta, centroids=np.load(Path(folder) / CENTROIDS_NPY))
