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

from rca.cluster.hierarchy import group_labels, parent_groups
from rca.cluster.labels import label_themes, problem_names
from rca.cluster.parent_names import parent_problem_names
from rca.cluster.quality import cluster_scores, hit_share, label_matches
from rca.embed.encoder import encoder_from_settings
from rca.errors import RcaError
from rca.ingest.read import read_file
from rca.jobs.fit import theme_model, theme_size_rule
from rca.settings import Settings
from rca.text.audience import people_name_finder
from rca.text.name_kinds import entity_reader_from_settings
from rca.text.normalise import normalise_series
from rca.text.persons import person_words
from rca.text.redact import redact_series
from rca.text.syntax import parser_from_settings


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


def _name_readings(
    names: dict[int, str],
    keyword_names: dict[int, str],
    y: np.ndarray,
    labels: np.ndarray,
    embed: Any,
) -> tuple[list[dict[str, Any]], float, float]:
    """(one row per named theme or group with its keyword name's reading beside, the names'
    label score, the keyword names' label score): which names miss, and the two means."""
    by_name = label_matches(names, y, labels, embed)
    by_keywords = {r["theme"]: r for r in label_matches(keyword_names, y, labels, embed)}
    rows = []
    for r in by_name:
        k = by_keywords.get(r["theme"], {})
        rows.append(r | {"keywords_label": k.get("name"), "keywords_nearest": k.get("nearest"),
                         "keywords_hit": k.get("hit")})  # fmt: skip
    return rows, hit_share(by_name), hit_share(list(by_keywords.values()))


def evaluate_file(
    settings: Settings,
    path: Path,
    *,
    text_col: str,
    label_col: str,
    parent_label_col: str | None = None,
    granularity: float = 1.0,
    seed: int = 42,
    log: bool = True,
) -> dict[str, Any]:
    """Fit on the file's texts with labels hidden; score the themes against the labels.

    Beside NMI/ARI/accuracy: the number of themes at each level (fine themes, parent groups),
    the label score of the theme names and of the c-TF-IDF labels (is a theme's name nearest to
    the reason code of most of its contacts?), and with ``parent_label_col`` the parent groups
    scored against a coarser label."""
    size_rule = theme_size_rule(settings)  # a missing optional package fails before any work
    frame = read_file(Path(path)).frame
    wanted = [text_col, label_col] + ([parent_label_col] if parent_label_col else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise RcaError(f"{path}: no column(s) {missing}; columns are {list(frame.columns)}")
    usable = frame[(frame[text_col].str.strip() != "") & (frame[label_col].str.strip() != "")]
    if parent_label_col:
        usable = usable[usable[parent_label_col].str.strip() != ""]
    if len(usable) < 50:
        raise RcaError(f"{path}: only {len(usable)} labelled texts; need at least 50")
    texts = normalise_series(
        redact_series(usable[text_col], min_digit_run=settings.redact_min_digit_run)
    ).tolist()
    X, embed_seconds = embed_with_file_cache(settings, texts)
    started = time.perf_counter()
    model = theme_model(settings, seed, granularity, min_cluster_size=size_rule).fit(X, texts)
    fit_seconds = time.perf_counter() - started
    y = usable[label_col].to_numpy()
    scores = cluster_scores(y, model.labels_)
    encoder = encoder_from_settings(settings)
    people = person_words(texts, model.labels_, people_name_finder(settings))  # as `rca fit`
    parse = parser_from_settings(settings)
    entities = entity_reader_from_settings(settings)  # places are no companies
    named = label_themes(texts, model.labels_, person_words=people).set_index("theme")
    keywords = {int(t): list(v) for t, v in named["keywords"].items()}
    names = problem_names(
        texts,
        model.labels_,
        X,
        model.centroids_,
        keywords=keywords,
        embed=encoder.encode,
        person_words=people,
        parse=parse,
        entities=entities,
    )
    groups = parent_groups(model.centroids_, model.sizes_)
    parents = np.where(model.labels_ >= 0, groups[np.maximum(model.labels_, 0)], -1)
    theme_rows, score, keyword_score = _name_readings(
        names, named["label"].to_dict(), y, model.labels_, encoder.encode
    )
    levels: dict[str, Any] = {
        "n_parent_groups": int(len(np.unique(groups))),
        "label_score": score,
        "label_score_keywords": keyword_score,
    }
    parent_rows: list[dict[str, Any]] = []
    if parent_label_col:
        y_parent = usable[parent_label_col].to_numpy()
        coarse = cluster_scores(y_parent, parents)
        levels |= {f"parent_{k}": v for k, v in coarse.items()}
        levels["parent_labels"] = int(usable[parent_label_col].nunique())
        # the parent groups' names as `rca fit` gives them, and the keyword names they had
        k = model.n_themes_
        keyword_lists = {t: keywords.get(t, []) for t in range(k)}
        group_names = parent_problem_names(
            texts,
            model.labels_,
            groups,
            X,
            model.centroids_,
            model.sizes_,
            keywords=keyword_lists,
            theme_names=[names.get(t, "") for t in range(k)],
            embed=encoder.encode,
            person_words=people,
            parse=parse,
        )
        keyword_names = group_labels(
            groups, keyword_lists, model.sizes_, theme_names=named["label"].to_dict()
        )
        parent_rows, score, keyword_score = _name_readings(
            group_names, keyword_names, y_parent, parents, encoder.encode
        )
        levels["parent_label_score"] = score
        levels["parent_label_score_keywords"] = keyword_score
    result: dict[str, Any] = {
        "input": str(path),
        "texts": len(usable),
        "skipped_rows": len(frame) - len(usable),
        "labels": int(usable[label_col].nunique()),
        **scores,
        **levels,
        # how the granularity was chosen, as `rca fit` logs it: the smallest theme size kept and
        # the voting layouts' choices (one entry when the fit did not vote)
        "smallest_theme": int(model.min_cluster_size_),
        "size_votes": [round(float(v), 1) for v in getattr(model, "size_votes_", [])],
        "fit_seconds": round(fit_seconds, 3),
        "embed_seconds": round(embed_seconds, 3),
        "granularity": granularity,
        "seed": seed,
        # which names miss: each theme beside the reason code most of its contacts carry
        "themes": theme_rows,
    }
    if parent_label_col:  # the same for the parent groups, against the coarser label
        result["parent_groups"] = [{"group": r.pop("theme")} | r for r in parent_rows]
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
            metrics={k: float(v) for k, v in (scores | levels).items()}
            | {"fit_seconds": fit_seconds},
        )
    return result
