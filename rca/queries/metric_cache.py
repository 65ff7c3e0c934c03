"""The learnt same-problem judge, fitted once per distinct input and kept under the home.

Every command that reads repeats (`rca drivers`, `vendors`, `report`, `sop`, the API's cold
answers) needs the judge of `rca.repeats.metric`, and fitting it is a large share of such a
command: 0.8 s of 1.5 s for `rca drivers` on a 2,500-contact store, 2.5 s of 16 s on 24,000.
Its inputs change only when contacts are ingested, assigned or re-themed, so the result is
kept in a file named by a digest of exactly those inputs (the rows' vectors, their themes, the
raw threshold and the fit's bounds): a cached judge is the judge the inputs would give, never a
stale one, and no command has to know when to invalidate it.

Files, not the store: the reading commands open the store read-only, and a cache write must
never take the store's single writer lock. Writes go to a temporary file renamed into place
(a reader sees a whole file or none); a file that cannot be read or written is ignored and
the judge is fitted as if there were no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from rca.repeats import metric as metric_module
from rca.repeats.metric import ThemeMetric, fit_theme_metric

#: Judges kept per home (newest by modification time): one per recent state of the data.
KEEP_FILES = 8
_PREFIX = "repeat-metric-"


def cache_dir(home: Path) -> Path:
    return Path(home) / "cache"


def input_digest(vectors: np.ndarray, theme: np.ndarray, raw_threshold: float) -> str:
    """A digest of everything `fit_theme_metric` reads: equal digests, equal judges."""
    h = hashlib.blake2b(digest_size=20)
    vectors = np.ascontiguousarray(vectors)
    h.update(f"{vectors.dtype.str}{vectors.shape}{raw_threshold!r}".encode())
    h.update(f"{metric_module.MAX_FIT_ROWS},{metric_module.PAIR_ROWS}".encode())
    h.update(memoryview(vectors).cast("B"))
    h.update("\x1f".join(np.asarray(theme).astype(str).tolist()).encode())
    return h.hexdigest()


def cached_theme_metric(
    home: Path, vectors: np.ndarray, theme: np.ndarray, raw_threshold: float
) -> ThemeMetric | None:
    """`fit_theme_metric(vectors, theme, raw_threshold)`, read from the home's cache when these
    very inputs were fitted before."""
    path = cache_dir(home) / f"{_PREFIX}{input_digest(vectors, theme, raw_threshold)}.npz"
    found = _read(path)
    if found is not None:
        return found[0]
    fitted = fit_theme_metric(vectors, theme, raw_threshold)
    _write(path, fitted)
    return fitted


def _read(path: Path) -> tuple[ThemeMetric | None] | None:
    """(the kept judge,) or None when there is no usable file. A kept "no judge" is (None,)."""
    try:
        with np.load(path, allow_pickle=False) as kept:
            if not bool(kept["fitted"]):
                return (None,)
            return (
                ThemeMetric(
                    np.ascontiguousarray(kept["scalings"]),
                    float(kept["threshold"]),
                    float(kept["accepted_share"]),
                    int(kept["themes"]),
                ),
            )
    except (OSError, KeyError, ValueError, EOFError):  # absent, truncated or foreign: refit
        return None


def _write(path: Path, fitted: ThemeMetric | None) -> None:
    fields = (
        {"fitted": False}
        if fitted is None
        else {
            "fitted": True,
            "scalings": fitted.scalings,
            "threshold": fitted.threshold,
            "accepted_share": fitted.accepted_share,
            "themes": fitted.themes,
        }
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **fields)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        _prune(path.parent)
    except OSError:  # a read-only home: the judge is simply fitted again next time
        return


def _prune(folder: Path) -> None:
    kept = sorted(folder.glob(f"{_PREFIX}*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP_FILES:]:
        with contextlib.suppress(OSError):
            old.unlink()
