"""The sentence-transformers pipeline around a transformer, shared by the onnx and half backends.

Why: throughput on a CPU is decided as much by what surrounds the transformer as by the
transformer itself. Texts are tokenised by the folder's Rust fast tokenizer in a background
thread while the previous chunk runs, sorted by token count and run in batches of texts of one
token count (so no padding is computed), then mean-pooled over the attention mask and
L2-normalised, exactly as the folder's `1_Pooling` and `Normalize` modules do. A backend
supplies `_hidden(ids, types, mask)`, the transformer's last hidden state as float32, or
overrides `_run` to pool where the hidden state lives (a GPU).

Texts longer than the model's window (`max_seq_length` word pieces, 256 for MiniLM; a fifth of
real consumer narratives) are embedded whole (issue 16): the tokenizer cuts them into windows of
the model's length that overlap by `WINDOW_OVERLAP` word pieces, each window is run and pooled
like a text of its own, and the text's vector is the mean of its windows' vectors, weighted by
their word pieces and re-normalised (`combine_windows`). The first window is exactly the
truncated text of before, so a text that fits in one window keeps its vector bit for bit. Why
this and not head + tail: experiments/results/long_texts.md.

One token count per batch also makes a text's vector independent of its batch-mates: padding
changes the order of the attention sums, and bf16 rounds that difference up to 1e-3, so the
same text embedded in a Ray partition and in one process would differ. Without padding, every
backend gives each text the same vector bit for bit however the texts are split.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from rca.errors import RcaError

#: Word pieces shared by consecutive windows of a long text, so no sentence is only ever seen
#: cut in two at a window's edge.
WINDOW_OVERLAP = 32
#: Texts tokenised together, sorted by length and run as batches of one token count; bounds
#: memory for 1M texts and is large enough that most batches are full.
CHUNK_TEXTS = 8192


def cpu_threads() -> int:
    """Cores this process may use (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def pipeline_config(model_path: Path) -> tuple[int, str]:
    """(max_seq_length, pooling mode) as the sentence-transformers folder declares them."""
    sbert = model_path / "sentence_bert_config.json"
    max_len = json.loads(sbert.read_text()).get("max_seq_length", 512) if sbert.exists() else 512
    config = json.loads((model_path / "config.json").read_text())
    max_len = min(int(max_len), int(config.get("max_position_embeddings", max_len)))
    pooling = model_path / "1_Pooling" / "config.json"
    mode = "mean"
    if pooling.exists():
        pool = json.loads(pooling.read_text())
        modes = [k for k, v in pool.items() if k.startswith("pooling_mode_") and v is True]
        if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
            raise RcaError(f"{model_path}: pooling {modes} is not supported by this backend")
        mode = "mean" if modes == ["pooling_mode_mean_tokens"] else "cls"
    return max_len, mode


def window_tokenizer(model_path: Path, max_length: int) -> Any:
    """The folder's fast tokenizer, unpadded, cutting long texts into overlapping windows."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    tokenizer.no_padding()  # batches hold one token count, so nothing needs padding
    # long texts: the first window as before (the truncated text), the rest as `overflowing`
    tokenizer.enable_truncation(max_length=max_length, stride=WINDOW_OVERLAP)
    return tokenizer


def long_mask(tokenizer: Any, max_length: int, texts: Sequence[str]) -> np.ndarray:
    """Which of `texts` need more than one window. Only texts of more characters than a
    window holds word pieces are tokenised: a word piece covers at least one character."""
    out = np.zeros(len(texts), dtype=bool)
    candidates = [i for i, t in enumerate(texts) if len(t) > max_length - 2]
    encodings = tokenizer.encode_batch([texts[i] for i in candidates])
    out[candidates] = [bool(e.overflowing) for e in encodings]
    return out


def padded(encodings: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(input ids, token type ids, attention mask), padded to the batch's longest text."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        ids[row, :n] = enc.ids
        types[row, :n] = enc.type_ids
        mask[row, :n] = 1
    return ids, types, mask


def pooled(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """Mean (over real tokens) or CLS pooling, then L2 normalisation, as float32 rows."""
    if mode == "cls":
        vectors = hidden[:, 0, :].astype(np.float32)
    else:
        weights = mask[:, :, None].astype(np.float32)
        summed = np.einsum("btd,btx->bd", hidden, weights)
        vectors = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


def windows_of(encoding: Any) -> list[Any]:
    """A tokenised text's windows: itself (its first window) and then its overflow."""
    return [encoding, *encoding.overflowing]


def combine_windows(vectors: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """One text's vector from its windows' normalised vectors: their mean weighted by each
    window's word pieces (so a short last window counts for what it holds), re-normalised."""
    weights = np.asarray(lengths, dtype=np.float64)
    mean = (vectors.astype(np.float64) * weights[:, None]).sum(axis=0) / weights.sum()
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def length_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Positions into ``lengths`` grouped into batches of one token count, at most
    ``batch_size`` each, shortest first."""
    order = np.argsort(lengths, kind="stable")
    cuts = np.flatnonzero(np.diff(lengths[order])) + 1
    return [
        group[b : b + batch_size]
        for group in np.split(order, cuts)
        for b in range(0, len(group), batch_size)
    ]


class BucketedEncoder:
    """Normalised sentence embeddings in input order; subclasses implement `_hidden` (or
    `_run`)."""

    def __init__(self, model_path: str | Path, *, batch_size: int = 64) -> None:
        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self.max_length, self.pooling = pipeline_config(self.model_path)
        self.tokenizer = window_tokenizer(self.model_path, self.max_length)
        self.dimension = int(
            json.loads((self.model_path / "config.json").read_text())["hidden_size"]
        )
        #: texts longer than one window in the last `encode` call
        self.last_long = 0

    def _hidden(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The transformer's last hidden state, (batch, tokens, dimension) float32."""
        raise NotImplementedError

    def _tokenise(self, texts: Sequence[str]) -> list[Any]:
        return self.tokenizer.encode_batch(list(texts))

    def _run(self, encodings: list[Any]) -> np.ndarray:
        """Pooled, normalised vectors of one batch."""
        ids, types, mask = padded(encodings)
        return pooled(self._hidden(ids, types, mask), mask, self.pooling)

    def _chunks(self, texts: Sequence[str]) -> Iterator[tuple[int, list[Any]]]:
        """(start, encodings) per chunk; the next chunk is tokenised while this one runs."""
        starts = range(0, len(texts), CHUNK_TEXTS)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for start in starts:
                nxt = pool.submit(self._tokenise, texts[start : start + CHUNK_TEXTS])
                if pending is not None:
                    yield pending[0], pending[1].result()
                pending = (start, nxt)
            if pending is not None:
                yield pending[0], pending[1].result()

    def encode(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        """Vectors in the order of ``texts``; ``progress`` (a tqdm-like bar) is advanced.

        A long text's windows join the batches like texts of their own (of their token
        count), then are combined into the text's vector."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        self.last_long = 0
        for start, encodings in self._chunks(texts):
            owners = [i for i, e in enumerate(encodings) for _ in e.overflowing]
            items = [*encodings, *(w for e in encodings for w in e.overflowing)]
            lengths = np.fromiter((len(e.ids) for e in items), dtype=np.int64)
            vectors = np.empty((len(items), self.dimension), dtype=np.float32)
            for rows in length_batches(lengths, self.batch_size):
                vectors[rows] = self._run([items[i] for i in rows])
                if progress is not None:
                    progress.update(int((rows < len(encodings)).sum()))
            out[start : start + len(encodings)] = vectors[: len(encodings)]
            if owners:
                self._combine(out[start:], vectors, lengths, np.asarray(owners), len(encodings))
        return out

    def _combine(
        self,
        out: np.ndarray,
        vectors: np.ndarray,
        lengths: np.ndarray,
        owners: np.ndarray,
        n_texts: int,
    ) -> None:
        """Replace each long text's first-window vector in `out` by its windows' mean."""
        extra = np.arange(n_texts, n_texts + len(owners))
        for owner in np.unique(owners):
            rows = np.concatenate([[owner], extra[owners == owner]])
            out[owner] = combine_windows(vectors[rows], lengths[rows])
        self.last_long += len(np.unique(owners))
