"""`rca evaluate`: how well do discovered themes line up with a team's own contact reasons?

The labels are hidden from the fit and used only for scoring (NMI, ARI, Hungarian accuracy),
so the figure says what a team would get on its own data. Texts go through the same
redaction and normalisation as ingested contacts, so the score measures the product as used.
Embeddings are cached under `RCA_HOME/cache/` per model and text set.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from rca.cluster.model import ThemeModel
from rca.cluster.quality import cluster_scores
from rca.embed.encoder import encoder_from_settings
from rca.errors import RcaError
from rca.ingest.read import read_file
from rca.settings import Settings
from rca.text.normalise import normalise_series
from rca.text.redact import redact_series


def embed_with_file_cache(settings: Settings, texts: list[str]) -> tuple[np.ndarray, float]:
    """Vectors for `texts` and the seconds spent embedding (0 when cached)."""
    encoder = encoder_from_settings(settings)
    digest = hashlib.sha256("\x1e".join(texts).encode("utf-8")).hexdigest()[:24]
    path = settings.home / "cache" / encoder.model_id / f"{digest}.npy"
    if path.exists():
        return np.load(path), 0.0
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    seconds = time.perf_counter() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors, seconds


def evaluate_file(
    settings: Settings,
    path: Path,
    *,
    text_col: str,
    label_col: str,
    granularity: float = 1.0,
    seed: int = 42,
    log: bool = True,
) -> dict[str, Any]:
    """Fit on the file's texts with labels hidden; score the themes against the labels."""
    frame = read_file(Path(path)).frame
    missing = [c for c in (text_col, label_col) if c not in frame.columns]
    if missing:
        raise RcaError(f"{path}: no column(s) {missing}; columns are {list(frame.columns)}")
    usable = frame[(frame[text_col].str.strip() != "") & (frame[label_col].str.strip() != "")]
    if len(usable) < 50:
        raise RcaError(f"{path}: only {len(usable)} labelled texts; need at least 50")
    texts = normalise_series(
        redact_series(usable[text_col], min_digit_run=settings.redact_min_digit_run)
    ).tolist()
    X, embed_seconds = embed_with_file_cache(settings, texts)
    started = time.perf_counter()
    model = ThemeModel(
        granularity=granularity,
        assign_threshold=settings.assign_threshold,
        random_state=seed,
        max_fit_samples=settings.fit_max_samples,
    ).fit(X, texts)
    fit_seconds = time.perf_counter() - started
    scores = cluster_scores(usable[label_col].to_numpy(), model.labels_)
    result: dict[str, Any] = {
        "input": str(path),
        "texts": len(usable),
        "skipped_rows": len(frame) - len(usable),
        "labels": int(usable[label_col].nunique()),
        **scores,
        "fit_seconds": round(fit_seconds, 3),
        "embed_seconds": round(embed_seconds, 3),
        "granularity": granularity,
        "seed": seed,
    }
    if log:
        from rca.jobs.tracking import log_evaluation

        result["mlflow_run_id"] = log_evaluation(
            settings,
            params={
                "input": str(path),
                "granularity": granularity,
                "seed": seed,
                **{f"model_{k}": v for k, v in model.get_params().items()},
            },
            metrics={k: float(v) for k, v in scores.items()} | {"fit_seconds": fit_seconds},
        )
    return result
