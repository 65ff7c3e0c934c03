"""What the learnt same-problem metric adds to the repeat analysis at scale (issue 18).

Draws N unit vectors (384 dimensions, as all-MiniLM-L6-v2) around 60 theme centres, a tenth
of them unassigned, and times `fit_theme_metric` (fitted on at most 20,000 of them, the
threshold from the pairs of at most 2,000) and the projection of all N rows, which is what
`detect_repeats` does once per analysis on top of its raw-cosine work.

    python -m experiments.bench_repeat_metric --n 1000000
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rca.repeats.metric import fit_theme_metric

DIMS, THEMES = 384, 60


def draw(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # a common direction (every text is about the product) plus each theme's own
    common = rng.normal(size=DIMS)
    centres = (0.8 * common + 0.6 * rng.normal(size=(THEMES, DIMS))).astype(np.float32)
    label = rng.integers(0, THEMES, size=n)
    vectors = centres[label] + rng.normal(scale=1.0, size=(n, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    theme = np.array([f"T{t:04d}" for t in range(THEMES)], dtype=object)[label]
    theme[rng.random(n) < 0.1] = ""
    return vectors, theme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    vectors, theme = draw(args.n)
    drawn = time.perf_counter()
    metric = fit_theme_metric(vectors, theme, 0.35)
    fitted = time.perf_counter()
    assert metric is not None
    projected = metric.transform(vectors)
    done = time.perf_counter()
    print(
        f"rows {args.n:,}, themes {metric.themes}, threshold {metric.threshold:.3f} "
        f"(accepts {metric.accepted_share:.1%} of different-theme pairs, as raw cosine 0.35)"
    )
    print(f"draw the vectors       {drawn - started:6.2f} s")
    print(f"fit_theme_metric       {fitted - drawn:6.2f} s")
    print(f"project every row      {done - fitted:6.2f} s  ({projected.nbytes / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
