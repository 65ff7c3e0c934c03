"""Scale benchmark (issue 8): stage throughput and peak memory at 10k, 100k and 1M contacts.

`python -m experiments.scale_bench [--sizes 10000 100000 1000000]` runs each size in its own
process (so peak RSS is that size's) on a fresh store under a temporary RCA_HOME:

1. ingest the demo stream (`rca.demo`) of that size;
2. embed the distinct texts with the default backend (`RCA_EMBED_BACKEND=auto`) into the store's
   cache; in the first size only, each backend's throughput on the same distinct texts;
3. `rca fit` (fit_themes: sampled UMAP + HDBSCAN, hysteresis, labels, representatives,
   MLflow, store), timed after embedding;
4. assignment of every contact to the champion's centroids (`ThemeCatalog.assign`, after
   embedding) and the whole `rca assign --all` (read, assign, write).

The demo stream draws its texts from ~12k corpus texts with light decoration, so the number of
*distinct* texts grows slower than the stream (the table says how many were embedded): the
embedding cache is what makes 1M contacts feasible here, and the embed figure is texts/s over
distinct texts. Writes experiments/results/scale_bench.md (and .json beside it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "scale_bench.md"
BACKEND_TEXTS = 3_000
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(n: int, root: Path, backends: bool) -> dict[str, object]:
    """Every stage for one stream size; returns the figures."""
    from rca.demo import DemoConfig, write_demo
    from rca.embed.cache import ensure_embeddings, read_vectors
    from rca.embed.encoder import BACKENDS, Encoder, encoder_from_settings
    from rca.ingest.pipeline import ingest_paths
    from rca.jobs.assign import assign_contacts
    from rca.jobs.fit import fit_themes
    from rca.jobs.tracking import load_catalog
    from rca.settings import Settings
    from rca.store import Store
    from rca.store.themes import load_contacts

    settings = Settings(home=root / f"home-{n}")
    out: dict[str, object] = {"contacts": n, "load_start": os.getloadavg()[0]}
    out["run"] = time.strftime("%Y-%m-%d")
    contacts_csv, _, _ = write_demo(root / f"demo-{n}", settings.datasets_dir, DemoConfig(n))
    started = time.perf_counter()
    ingest_paths([str(contacts_csv)], settings)
    out["ingest_s"] = time.perf_counter() - started
    out["rss_ingest_mb"] = _rss_mb()

    store = Store(settings.store_path)
    with store.read() as con:
        contacts = load_contacts(con)
    encoder = encoder_from_settings(settings)
    out["backend"] = encoder.backend
    started = time.perf_counter()
    stats = ensure_embeddings(store, encoder, contacts, progress=False)
    out["embed_s"] = time.perf_counter() - started
    out["distinct_texts"] = stats.texts
    out["embed_texts_per_s"] = stats.per_second
    out["rss_embed_mb"] = _rss_mb()
    if backends:
        texts = contacts.drop_duplicates("text_hash")["text_norm"].head(BACKEND_TEXTS).tolist()
        for backend in BACKENDS:
            enc = Encoder(
                settings.resolved_model_path,
                device="cpu",
                backend=backend,
            )
            enc.encode(texts[:200], progress=False)  # load and warm up
            best = 0.0
            for _ in range(2):
                begun = time.perf_counter()
                enc.encode(texts, progress=False)
                best = max(best, len(texts) / (time.perf_counter() - begun))
            out[f"texts_per_s_{backend}"] = best
            out[f"load_{backend}"] = os.getloadavg()[0]
    del contacts

    started = time.perf_counter()
    fit = fit_themes(settings, promote="always")
    out["fit_total_s"] = time.perf_counter() - started
    out["fit_read_vectors_s"] = fit.seconds.get("embed", 0.0)
    out["fit_after_embedding_s"] = out["fit_total_s"] - out["fit_read_vectors_s"]  # type: ignore[operator]
    out["fit_cluster_s"] = fit.seconds.get("cluster", 0.0)
    out["fit_describe_s"] = fit.seconds.get("describe", 0.0)
    out["themes"] = fit.catalog.n_themes
    out["unassigned"] = fit.metrics.get("unassigned_fraction", float("nan"))
    out["umap_rows"] = min(n, settings.fit_max_samples or n)
    out["rss_fit_mb"] = _rss_mb()

    catalog = load_catalog(settings)
    with store.read() as con:
        contacts = load_contacts(con)
        X = read_vectors(con, catalog.encoder_id, contacts["text_hash"])
    started = time.perf_counter()
    catalog.assign(X)
    out["assign_per_s"] = len(X) / (time.perf_counter() - started)
    del X, contacts
    started = time.perf_counter()
    result = assign_contacts(settings, reassign_all=True)
    out["assign_all_s"] = time.perf_counter() - started
    out["assign_all_per_s"] = result.contacts / out["assign_all_s"]  # type: ignore[operator]
    out["rss_peak_mb"] = _rss_mb()
    out["load_end"] = os.getloadavg()[0]
    return out


def write(rows: list[dict[str, object]]) -> None:
    def f(row: dict[str, object], key: str, fmt: str = ",.0f") -> str:
        value = row.get(key)
        return "–" if value is None else format(value, fmt)

    lines = [
        "# Scale benchmark",
        "",
        "Generated by `python -m experiments.scale_bench`: demo streams on a fresh store, this "
        "2-core machine (load average at start and end of each size in the table; the machine "
        "is shared, so figures under load are lower bounds). Peak RSS is the "
        "size's own process (`ru_maxrss`) after each stage. Embed: distinct texts only, with "
        "the default backend; the stream repeats corpus texts, so 1M contacts need far fewer "
        "than 1M embeddings (the embedding cache at work, stated honestly: embedding 1M truly "
        "distinct texts would take proportionally longer, ~20 minutes at 800 texts/s). Fit "
        "after "
        "embedding: `rca fit` wall time minus reading the cached vectors; UMAP and HDBSCAN see "
        "at most `RCA_FIT_MAX_SAMPLES` contacts (week-stratified), the rest is assigned. "
        "`--merge` keeps other sizes' rows from earlier runs: the run column dates each row, "
        "and a row from an earlier run was measured with that day's code.",
        "",
        "| contacts | run | load start/end | ingest s (rows/s) | distinct texts | "
        "embed s (texts/s) | "
        "fit after embedding s | UMAP rows | themes | unassigned | assign contacts/s "
        "(centroids) | `rca assign --all` s (contacts/s) | peak RSS MB: ingest / embed / fit / "
        "all |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        n = float(r["contacts"])  # type: ignore[arg-type]
        lines.append(
            f"| {int(n):,} | {r.get('run', 'before 2026-12-02')} | "
            f"{f(r, 'load_start', '.1f')}/{f(r, 'load_end', '.1f')} | "
            f"{f(r, 'ingest_s', '.1f')} ({n / float(r['ingest_s']):,.0f}) | "  # type: ignore[arg-type]
            f"{f(r, 'distinct_texts')} | {f(r, 'embed_s', '.1f')} "
            f"({f(r, 'embed_texts_per_s')}, {r.get('backend')}) | "
            f"{f(r, 'fit_after_embedding_s', '.1f')} | {f(r, 'umap_rows')} | "
            f"{r.get('themes')} | {f(r, 'unassigned', '.1%')} | {f(r, 'assign_per_s')} | "
            f"{f(r, 'assign_all_s', '.1f')} ({f(r, 'assign_all_per_s')}) | "
            f"{f(r, 'rss_ingest_mb')} / {f(r, 'rss_embed_mb')} / {f(r, 'rss_fit_mb')} / "
            f"{f(r, 'rss_peak_mb')} |"
        )
    first = next((r for r in rows if "texts_per_s_torch" in r), None)
    if first is not None:
        lines += [
            "",
            f"Embedding backends on {BACKEND_TEXTS:,} distinct demo texts (best of 2, load "
            "average when each finished):",
            "",
            "| backend | texts/s | load |",
            "|---|---|---|",
        ]
        names = [k.removeprefix("texts_per_s_") for k in first if k.startswith("texts_per_s_")]
        for b in names:
            lines.append(
                f"| {b} | {f(first, f'texts_per_s_{b}')} | {f(first, f'load_{b}', '.1f')} |"
            )
    RESULTS.write_text("\n".join(lines) + "\n")
    RESULTS.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n")


def main() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(DEFAULT_SIZES))
    parser.add_argument(
        "--merge", action="store_true", help="keep other sizes' rows from the last results"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--backends", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.root, args.backends)))
        return
    rows: list[dict[str, object]] = []
    previous = RESULTS.with_suffix(".json")
    if args.merge and previous.exists():
        rows = [r for r in json.loads(previous.read_text()) if r["contacts"] not in args.sizes]
    with tempfile.TemporaryDirectory() as tmp:
        for i, n in enumerate(args.sizes):
            command = [sys.executable, "-m", "experiments.scale_bench", "--one", str(n)]
            command += ["--root", tmp] + (["--backends"] if i == 0 else [])
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                rows.append({"contacts": n, "error": done.stderr.strip().splitlines()[-1:]})
                continue
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
            done_rows = [r for r in rows if "error" not in r]
            write(sorted(done_rows, key=lambda r: int(r["contacts"])))  # type: ignore[call-overload]
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
