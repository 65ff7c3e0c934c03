"""Texts longer than the encoder's window: truncated vs mean of windows vs head + tail.

Why: all-MiniLM-L6-v2 reads 256 word pieces; sentence-transformers cuts the rest silently, and a
fifth of real consumer narratives are longer. Three ways to embed them, on the CFPB payday-loan
narratives (2,827 real complaints, labelled by Issue, 24 values, and Sub-product, 5):

- **truncated**: the first window only (what every backend did before issue 16);
- **windows**: overlapping windows of the model's length (overlap `WINDOW_OVERLAP` word
  pieces), each pooled and normalised like a text, then averaged (weighted by word pieces, or
  equally) and re-normalised;
- **head + tail**: the first `HEAD` and the last 254 - `HEAD` word pieces as one window (Sun et
  al. 2019 found head + tail best for long reviews with BERT).

Scored with the project's clustering (`ThemeModel()` defaults, several seeds): theme NMI against
Issue (and Sub-product), and a label-free-of-clustering check: leave-one-out 10-nearest-neighbour
accuracy for Issue, on all texts and on the long ones. Only the long texts' vectors differ
between the variants; short texts are the same rows in every variant.

    HF_HUB_OFFLINE=1 .venv/bin/python -m experiments.long_texts [--seeds 3]

The data (3.9 MB) is read from the shared folder beside the repository
(`../shared/data/cfpb/payday_loan_complaints_2023.csv`, `--data` to point elsewhere): CFPB
consumer complaints, a US government work in the public domain, from the export published in
SeunnnA/Predatory_Lending (commit 8342285); see that folder's SOURCE.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from rca.cluster import ThemeModel
from rca.cluster.quality import cluster_scores
from rca.embed.batching import WINDOW_OVERLAP, combine_windows, length_batches, windows_of
from rca.embed.encoder import encoder_from_settings
from rca.settings import Settings
from rca.text.normalise import normalise_series

DATA = Path("../shared/data/cfpb/payday_loan_complaints_2023.csv")
TEXT, ISSUE, SUB_PRODUCT = "Consumer complaint narrative", "Issue", "Sub-product"
HEADS = (64, 128)  # word pieces from the start in head + tail; the rest of 254 from the end
NEIGHBOURS = 10


def run_windows(model: Any, items: list[Any]) -> tuple[np.ndarray, float]:
    """Pooled, normalised vectors of tokenised windows (one token count per batch)."""
    started = time.perf_counter()
    lengths = np.fromiter((len(e.ids) for e in items), dtype=np.int64)
    out = np.empty((len(items), model.dimension), dtype=np.float32)
    for rows in length_batches(lengths, model.batch_size):
        out[rows] = model._run([items[i] for i in rows])
    return out, time.perf_counter() - started


def head_tail(full_ids: list[int], head: int, max_length: int) -> SimpleNamespace:
    """[CLS] + the first `head` and the last (window - head) content pieces + [SEP]."""
    content = full_ids[1:-1]
    tail = max_length - 2 - head
    ids = [full_ids[0], *content[:head], *content[-tail:], full_ids[-1]]
    return SimpleNamespace(ids=ids, type_ids=[0] * len(ids))


def variants(model: Any, texts: list[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Vectors of every variant, which texts are long, and encode times."""
    encodings = model.tokenizer.encode_batch(texts)
    long = np.array([bool(e.overflowing) for e in encodings])
    first, t_first = run_windows(model, encodings)
    extra_items = [w for e in encodings for w in e.overflowing]
    owners = np.array([i for i, e in enumerate(encodings) for _ in e.overflowing])
    extra, t_extra = run_windows(model, extra_items)
    out = {"truncated": first}
    for name, weighted in (("windows (weighted)", True), ("windows (equal)", False)):
        vectors = first.copy()
        for i in np.flatnonzero(long):
            rows = [first[i], *extra[owners == i]]
            lengths = [len(w.ids) for w in windows_of(encodings[i])]
            vectors[i] = combine_windows(
                np.vstack(rows), lengths if weighted else np.ones(len(rows))
            )
        out[name] = vectors
    whole = model.tokenizer.__class__.from_str(model.tokenizer.to_str())
    whole.no_truncation()
    full = whole.encode_batch([texts[i] for i in np.flatnonzero(long)])
    times = {
        "first windows": t_first,
        "extra windows": t_extra,
        "extra windows n": len(extra_items),
    }
    for head in HEADS:
        items = [head_tail(e.ids, head, model.max_length) for e in full]
        vectors, seconds = run_windows(model, items)
        both = first.copy()
        both[long] = vectors
        out[f"head {head} + tail {model.max_length - 2 - head}"] = both
        times[f"head {head} + tail"] = seconds
    tokens = np.array([len(e.ids) for e in full])
    return out, {"long": long, "times": times, "long_tokens": tokens}


def knn_accuracy(X: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> float:
    """Leave-one-out majority label of the nearest neighbours (cosine), over `rows`."""
    sims = X[rows] @ X.T
    sims[np.arange(len(rows)), rows] = -np.inf
    nearest = np.argsort(-sims, axis=1)[:, :NEIGHBOURS]
    hits = [
        pd.Series(labels[n]).mode().iloc[0] == labels[r] for r, n in zip(rows, nearest, strict=True)
    ]
    return float(np.mean(hits))


def score(
    vectors: dict[str, np.ndarray], frame: pd.DataFrame, long: np.ndarray, seeds: int
) -> pd.DataFrame:
    issue = frame[ISSUE].to_numpy()
    sub = frame[SUB_PRODUCT].fillna("").to_numpy()
    texts = frame[TEXT].tolist()
    rows = []
    for name, X in vectors.items():
        for seed in range(seeds):
            labels = ThemeModel(random_state=seed).fit(X, texts).labels_
            print(f"{name} seed {seed}: fitted", file=sys.stderr)
            issue_scores = cluster_scores(issue, labels)
            rows.append(
                {
                    "variant": name,
                    "seed": seed,
                    "nmi_issue": issue_scores["nmi"],
                    "nmi_issue_long": cluster_scores(issue[long], labels[long])["nmi"],
                    "nmi_sub_product": cluster_scores(sub, labels)["nmi"],
                    "themes": issue_scores["n_themes"],
                    "unassigned": issue_scores["unassigned_fraction"],
                    "knn_all": knn_accuracy(X, issue, np.arange(len(X))),
                    "knn_long": knn_accuracy(X, issue, np.flatnonzero(long)),
                }
            )
    return pd.DataFrame(rows)


def _cell(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def report(
    table: pd.DataFrame, info: dict[str, Any], n: int, args: argparse.Namespace, seconds: float
) -> str:
    long = info["long"]
    tokens = info["long_tokens"]
    means = table.groupby("variant", sort=False).agg(["mean", "std"])
    lines = [
        "# Long texts: truncated vs mean of windows vs head + tail",
        "",
        f"`HF_HUB_OFFLINE=1 python -m experiments.long_texts --seeds {args.seeds}` "
        f"({seconds:.0f} s, backend {info['backend']}). {n:,} CFPB payday-loan narratives "
        f"(`{DATA}`, read from the "
        f"shared folder); {int(long.sum())} ({long.mean():.0%}) are longer than the model's "
        f"window of {info['max_length']} word pieces (median {int(np.median(tokens))}, max "
        f"{int(tokens.max())} word pieces among them). Windows overlap by {WINDOW_OVERLAP}. "
        f"ThemeModel defaults, seeds 0..{args.seeds - 1}; mean ± sd over seeds (kNN is "
        "deterministic).",
        "",
        "| variant | NMI vs Issue | NMI vs Issue, long texts | NMI vs Sub-product | themes | "
        f"unassigned | {NEIGHBOURS}-NN Issue accuracy, all | same, long texts |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in means.iterrows():
        lines.append(
            f"| {name} | {row[('nmi_issue', 'mean')]:.3f} ± {row[('nmi_issue', 'std')]:.3f} | "
            f"{row[('nmi_issue_long', 'mean')]:.3f} ± {row[('nmi_issue_long', 'std')]:.3f} | "
            f"{row[('nmi_sub_product', 'mean')]:.3f} ± {row[('nmi_sub_product', 'std')]:.3f} | "
            f"{row[('themes', 'mean')]:.1f} | {row[('unassigned', 'mean')]:.2f} | "
            f"{row[('knn_all', 'mean')]:.3f} | {row[('knn_long', 'mean')]:.3f} |"
        )
    times = info["times"]
    lines += [
        "",
        "## Encode time (this run, shared 2-core machine)",
        "",
        f"- every text's first window (= truncated): {times['first windows']:.1f} s",
        f"- the {times['extra windows n']} further windows of the long texts: "
        f"{times['extra windows']:.1f} s",
        *(
            f"- {k} (the long texts' one window): {v:.1f} s"
            for k, v in times.items()
            if k.startswith("head")
        ),
        "",
        "Per seed:",
        "",
        "| " + " | ".join(table.columns) + " |",
        "|" + "---|" * len(table.columns),
        *("| " + " | ".join(_cell(v) for v in row) + " |" for row in table.itertuples(index=False)),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="first N rows only (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("experiments/results"))
    args = parser.parse_args()
    started = time.perf_counter()
    frame = pd.read_csv(args.data).dropna(subset=[TEXT])
    if args.limit:
        frame = frame.head(args.limit)
    frame = frame.reset_index(drop=True)
    encoder = encoder_from_settings(Settings())
    model = encoder._load()
    texts = normalise_series(frame[TEXT]).tolist()
    vectors, info = variants(model, texts)
    print(f"embedded in {time.perf_counter() - started:.0f} s: {info['times']}", file=sys.stderr)
    info.update(backend=encoder.backend, max_length=model.max_length)
    table = score(vectors, frame, info["long"], args.seeds)
    text = report(table, info, len(frame), args, time.perf_counter() - started)
    if not args.limit:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "long_texts.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
