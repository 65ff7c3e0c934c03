"""Theme-model benchmark on an ingested, embedded store (e.g. the demo's `.rca`).

`python -m experiments.bench_themes --home .rca` prints: fit time after embedding (per stage),
id stability of a refit with another seed, time to assign 10,000 contacts to the champion
after embedding, and single-versus-batch agreement over those 10,000.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from rca.embed.cache import read_vectors
from rca.jobs.fit import fit_themes
from rca.jobs.tracking import load_catalog
from rca.settings import Settings
from rca.store import Store
from rca.store.themes import load_contacts

ASSIGN_ROWS = 10_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, default=Path(".rca"))
    args = parser.parse_args()
    settings = Settings(home=args.home)

    started = time.perf_counter()
    first = fit_themes(settings, seed=42, promote="always")
    fit_s = time.perf_counter() - started
    print(
        f"fit (seed 42): {fit_s:.1f} s total; stages {first.seconds}; "
        f"model stages {first.metrics.get('fit_seconds_total', float('nan')):.1f} s; "
        f"{first.catalog.n_themes} themes, "
        f"{first.metrics['unassigned_fraction']:.2%} unassigned"
    )

    second = fit_themes(settings, seed=7, promote="never")
    print(
        f"refit (seed 7): {second.catalog.n_themes} themes, id stability "
        f"{second.checks['id_stability_value']:.3f}; events "
        f"{second.events['event'].value_counts().to_dict()}"
    )

    catalog = load_catalog(settings)
    with Store(settings.store_path).read() as con:
        contacts = load_contacts(con).tail(ASSIGN_ROWS)
        X = read_vectors(con, catalog.encoder_id, contacts["text_hash"])
    started = time.perf_counter()
    ids, _ = catalog.assign(X)
    batch_s = time.perf_counter() - started
    single = [catalog.assign(X[i : i + 1])[0][0] for i in range(len(X))]
    agreement = float(np.mean([a == b for a, b in zip(ids, single, strict=True)]))
    print(
        f"assign {len(X)} contacts (after embedding): {batch_s:.3f} s batch; "
        f"single-vs-batch agreement {agreement:.2%}"
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
