"""Do names that also discount what the whole collection shares say the right reason code more
often? (Measured at stop 58 and not adopted: granularity.md "Names against the collection's mean".)

    python -m experiments.mean_contrast_probe [--sets a,b] [--seeds 42,7,0] [--weights 0,0.5,1]

The product's path end to end, as ``rca evaluate`` runs it: each set read as ``rca evaluate``
reads it (``<set>@product``: redacted, normalised, the product's encoder), the product's fit
(``ThemeModel`` with the settings' size rule and vote), the product's names (people's words,
parser, entity reader, c-TF-IDF keywords), scored by ``label_score`` at the set's fine level.
A phrase scores ``cos(phrase, own centroid) - NAME_CONTRAST * max cos(phrase, other centroid)
- w * cos(phrase, collection mean)`` for each weight ``w`` (0 is the product before). The fit
is cached per set and seed under ``/tmp/rca-emb/mean_contrast_fits`` and phrase vectors are
reused across weights, so only the names change between rows. Rows go to
``results/mean_contrast_probe.jsonl`` with the c-TF-IDF labels' score beside them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rca.cluster.labels as labels_module
from experiments.granularity_study import CACHE_DIR, load_set
from rca.cluster.model import MIN_SAMPLES
from rca.cluster.quality import label_matches
from rca.embed.encoder import encoder_from_settings
from rca.jobs.fit import theme_model, theme_size_rule
from rca.settings import Settings
from rca.text.audience import people_name_finder
from rca.text.name_kinds import entity_reader_from_settings
from rca.text.persons import person_words
from rca.text.syntax import parser_from_settings

ROWS = Path(__file__).resolve().parent / "results" / "mean_contrast_probe.jsonl"
SETS = ("banking77-test", "bitext", "hwu64", "cfpb", "hwu64-30pc", "banking77+hwu64-30pc")
FITS = CACHE_DIR / "mean_contrast_fits"


def _fit(name: str, X: np.ndarray, texts: list[str], seed: int, settings: Settings) -> tuple:
    """(labels, centroids) of the product's fit, cached: the fit is what every weight shares."""
    # keyed by the model's defaults that shape a fit, so a changed default never reads a stale one
    path = FITS / f"{name.replace('+', '_')}_{seed}_ms{MIN_SAMPLES}.npz"
    if path.exists():
        got = np.load(path)
        return got["labels"], got["centroids"]
    model = theme_model(settings, seed, min_cluster_size=theme_size_rule(settings)).fit(X, texts)
    FITS.mkdir(parents=True, exist_ok=True)
    np.savez(path, labels=model.labels_, centroids=model.centroids_)
    return model.labels_, model.centroids_


@dataclass
class Named:
    """One fit of one set, with everything the product's names read (shared by the name
    probes: ``text_votes_probe`` too)."""

    name: str
    seed: int
    texts: list[str]
    X: np.ndarray
    y: np.ndarray
    level: str
    labels: np.ndarray
    centroids: np.ndarray
    embed: Callable[[list[str]], np.ndarray]
    kwargs: dict
    keyword_score: float


def prepare(name: str, seed: int) -> Named:
    settings = Settings(home=CACHE_DIR / "product-home")
    texts, X, levels = load_set(f"{name}@product")
    level, y = next(iter(levels.items()))
    labels, centroids = _fit(name, X, texts, seed, settings)
    encoder = encoder_from_settings(settings)
    cache: dict[str, np.ndarray] = {}

    def embed(phrases: list[str]) -> np.ndarray:
        missing = [p for p in dict.fromkeys(phrases) if p not in cache]
        if missing:
            for p, v in zip(missing, encoder.encode(missing), strict=True):
                cache[p] = v
        return np.vstack([cache[p] for p in phrases])

    people = person_words(texts, labels, people_name_finder(settings))
    named = labels_module.label_themes(texts, labels, person_words=people).set_index("theme")
    keywords = {int(t): list(v) for t, v in named["keywords"].items()}
    parse, entities = parser_from_settings(settings), entity_reader_from_settings(settings)
    companies = labels_module.theme_companies(texts, labels, person_words=people, entities=entities)
    keyword_rows = label_matches(named["label"].to_dict(), y, labels, embed)
    kwargs = {"keywords": keywords, "embed": embed, "person_words": people, "parse": parse,
              "entities": entities, "companies": companies}  # fmt: skip
    return Named(name, seed, texts, X, np.asarray(y), level, labels, centroids, embed, kwargs,
                 sum(r["hit"] for r in keyword_rows) / max(len(keyword_rows), 1))  # fmt: skip


def score_names(fit: Named, scorer: Callable, tag: dict, rows_path: Path) -> None:
    """The product's names with ``scorer`` in place of ``labels._phrase_similarity``, scored
    and written as one row (``tag`` says which variant)."""
    product = labels_module._phrase_similarity
    labels_module._phrase_similarity = scorer
    try:
        names = labels_module.problem_names(
            fit.texts, fit.labels, fit.X, fit.centroids, **fit.kwargs
        )
    finally:
        labels_module._phrase_similarity = product
    rows = label_matches(names, fit.y, fit.labels, fit.embed)
    row = {
        "set": fit.name, "seed": fit.seed, "level": fit.level, **tag, "themes": len(rows),
        "score": round(sum(r["hit"] for r in rows) / max(len(rows), 1), 4),
        "keywords_score": round(fit.keyword_score, 4),
        "names": {r["theme"]: r["name"] for r in rows},
    }  # fmt: skip
    with rows_path.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    shown = [r["name"] for r in rows[:6]]
    print(f"{fit.name} s{fit.seed} {tag}: {row['score']:.3f} (keywords {fit.keyword_score:.3f}, "
          f"{len(rows)} themes) {shown}", flush=True)  # fmt: skip


def run(name: str, seed: int, weights: list[float]) -> None:
    fit = prepare(name, seed)
    unit = fit.X / np.maximum(np.linalg.norm(fit.X, axis=1, keepdims=True), 1e-12)
    mean = unit[fit.labels >= 0].mean(axis=0)
    mean /= np.linalg.norm(mean)
    product = labels_module._phrase_similarity
    for w in weights:

        def scored(embed_, flat, centroids_, *, contrast=0.0, w=w):
            """The product's score less ``w`` times the phrase's cosine to the mean."""
            base = product(embed_, flat, centroids_, contrast=contrast)
            vecs = np.asarray(embed_([p for _, p in flat]), dtype=np.float64)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            return base - w * (vecs @ mean)

        score_names(fit, scored, {"weight": w}, ROWS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--seeds", default="42,7,0")
    parser.add_argument("--weights", default="0,0.25,0.5,1")
    args = parser.parse_args()
    for name in args.sets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            run(name, seed, [float(w) for w in args.weights.split(",")])


if __name__ == "__main__":
    main()
