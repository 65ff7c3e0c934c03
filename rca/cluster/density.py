"""Density clustering (HDBSCAN) of the reduced coordinates, with a minimum theme size from n."""

from __future__ import annotations

import numpy as np

# A theme must hold at least 1/MIN_SIZE_DIVISOR of the contacts (at granularity 1). Scaling with n
# keeps the number of themes readable (at most MIN_SIZE_DIVISOR, 50-70 in practice) for 3k and
# 100k contacts alike. 150 gave the best mean score over Banking77-train (3k and 10k) and
# Bitext-train (intents, categories) among settings meeting the Banking77 targets (tuning.md).
MIN_SIZE_DIVISOR = 150
# Below this a "theme" is an anecdote, not a recurring issue; also keeps tiny fits sensible.
MIN_CLUSTER_SIZE_FLOOR = 10
# Ceiling so that very large fits still surface themes of ~0.1-1% of contacts.
MIN_CLUSTER_SIZE_CEILING = 1000


def default_min_cluster_size(n_rows: int, granularity: float = 1.0) -> int:
    """Minimum theme size for ``n_rows`` contacts: ``n / (150 * granularity)``, within bounds."""
    size = round(n_rows / (MIN_SIZE_DIVISOR * granularity))
    return int(np.clip(size, MIN_CLUSTER_SIZE_FLOOR, MIN_CLUSTER_SIZE_CEILING))


def density_clusters(
    coords: np.ndarray, min_cluster_size: int, min_samples: int | None
) -> np.ndarray:
    """HDBSCAN (excess-of-mass) labels of ``coords``; ``-1`` marks points in no dense region."""
    import hdbscan  # heavy import; only needed when fitting

    min_samples = None if min_samples is None else max(1, min(min_samples, len(coords) - 1))
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=max(2, min(min_cluster_size, len(coords))),
        min_samples=min_samples,
        cluster_selection_method="eom",
    )
    return np.asarray(clusterer.fit_predict(coords), dtype=np.int64)
