"""Names of parent groups in customers' words, as fine themes are named.

A parent group used to be named by its members' pooled keywords ("Confirm / Said", "Money /
Ask", "Set"), the keyword pairs theme names stopped being at stop 30. A group is now named like
a theme (:func:`rca.cluster.labels.problem_names`): the candidates are phrases of the central
texts of *every* member (an equal share each, so the biggest member does not supply them all)
and the group's best pooled keyword terms; the winner fits the member it fits *least* as well
as possible (its lowest cosine to a member's centroid, not its cosine to the group's mean), less
``NAME_CONTRAST`` times its closeness to the nearest other group. A heading should hold all of
its themes.

Measured (``experiments/parent_name_probe.py``, granularity.md "Parent groups named in
customers' words"), label score of the parent groups against the coarse gold names at UMAP
seeds 42 / 7 / 0: Bitext categories 0.556 / 0.588 / 0.625 with keyword names, 0.778 / 0.765 /
0.812 now; HWU64 scenarios 0.407 / 0.462 / 0.414 (c-TF-IDF theme labels for one-theme groups:
0.481 / 0.538 / 0.483), 0.519 / 0.577 / 0.517 now. The cosine to the group's mean gave 0.722 /
0.706 / 0.750 and 0.481 / 0.500 / 0.552. Requiring a candidate to be written by half of the
members cost HWU64 about 0.1 at every seed, so a heading can still be one member's phrase
("Book taxi" over train, taxi and traffic themes). A one-theme group keeps its theme's name.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

import numpy as np

from rca.cluster.hierarchy import group_labels, group_terms
from rca.cluster.labels import (
    NAME_CENTRAL_TEXTS,
    NAME_CONTRAST,
    NAME_PRESCORE_WEIGHT,
    Embedder,
    KeywordLike,
    as_written,
    format_name,
    name_candidates,
)
from rca.cluster.model import _unit_rows
from rca.text.casing import decased
from rca.text.profanity import PROFANE_WORDS
from rca.text.spelling import corrected, word_counts
from rca.text.syntax import Parser, PhraseCheck

# The group's best pooled keyword terms (`group_terms`) that join the phrase candidates.
GROUP_TERM_CANDIDATES = 3


def _central_texts(
    texts: Sequence[str],
    labels: np.ndarray,
    unit: np.ndarray,
    cents: np.ndarray,
    members: np.ndarray,
) -> list[list[str]]:
    """An equal share of NAME_CENTRAL_TEXTS from each member theme, most central first."""
    per = math.ceil(NAME_CENTRAL_TEXTS / len(members))
    central: list[list[str]] = []
    for t in members:
        rows = np.flatnonzero(labels == t)
        sims = unit[rows] @ cents[t]
        # a title's or a shout's capitals say nothing: read in lower case, as problem_names does
        central.append([decased(str(texts[i])) for i in rows[np.lexsort((rows, -sims))][:per]])
    return central


def _member_fit(sims: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """A candidate's fit to a group from its cosines to the members (candidates x members):
    the member it fits least (``sizes`` unused here; the probe's group-mean variant weighs by
    them)."""
    return sims.min(axis=1)


def parent_problem_names(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    groups: Sequence[int] | np.ndarray,
    vectors: np.ndarray,
    centroids: np.ndarray,
    sizes: Sequence[int] | np.ndarray,
    *,
    keywords: Mapping[int, Sequence[KeywordLike]],
    theme_names: Sequence[str],
    embed: Embedder | None,
    person_words: frozenset[str] = frozenset(),
    reserved: Collection[str] = (),
    parse: Parser | None = None,
) -> dict[int, str]:
    """``{group: name}`` for every group of ``groups`` (``groups[t]`` is theme t's group).

    ``labels`` are the contacts' themes, ``vectors`` their embeddings and ``centroids`` the
    themes' (same space); ``keywords`` the themes' ranked c-TF-IDF keywords, pooled per group
    (:func:`rca.cluster.hierarchy.group_terms`) to say which phrases are distinctive. A group
    of several themes never takes a name in ``theme_names`` or ``reserved`` (a heading named
    like one of its themes reads as that theme); one with no candidate phrase, or every group
    when ``embed`` is None, keeps its keyword name (:func:`rca.cluster.hierarchy.group_labels`).
    Names are unique (" (2)" suffixes, as there). Deterministic. With ``parse`` the chosen
    phrase is written out as theme names are (:func:`rca.cluster.labels.problem_names`); the
    cut-phrase penalty is not applied to headings: there it let longer phrases beat one-word
    headings ("Email" -> "New email", "Taxi" -> "Call a taxi") or, with the pooled terms
    penalised too, words beat phrases ("Check order" -> "Order"), 3-4 headings worse on the
    label score either way (experiments/results/granularity.md, stop 50).
    """
    groups_arr = np.asarray(groups, dtype=np.int64).ravel()
    labels_arr = np.asarray(labels, dtype=np.int64).ravel()
    sizes_arr = np.asarray(sizes, dtype=np.float64).ravel()
    if len(groups_arr) == 0:
        return {}
    terms = group_terms(groups_arr, keywords, sizes_arr)
    unit = _unit_rows(vectors)
    cents = _unit_rows(centroids)
    group_ids = sorted(int(g) for g in np.unique(groups_arr))
    weighted = cents * np.maximum(sizes_arr, 1.0)[:, None]
    group_cents = _unit_rows(np.stack([weighted[groups_arr == g].sum(axis=0) for g in group_ids]))
    scored: dict[int, list[tuple[float, str]]] = {}
    group_texts: dict[int, list[str]] = {}  # the texts a group's candidates come from
    checks: dict[int, PhraseCheck] = {}
    for row, g in enumerate(group_ids):
        members = np.flatnonzero(groups_arr == g)
        if len(members) < 2 or embed is None:
            continue
        central = _central_texts(texts, labels_arr, unit, cents, members)
        group_texts[g] = sum(central, [])
        cands = name_candidates(group_texts[g], terms.get(g, []), person_words)
        written = {p for p, _ in cands}
        # the terms the members' keywords share compete on the same score ("Said", "Calendar")
        cands += [
            (term, 0.0)
            for term, _ in terms.get(g, [])[:GROUP_TERM_CANDIDATES]
            if term not in written and not person_words & set(term.split())
        ]
        if not cands:
            continue
        vecs = _unit_rows(np.asarray(embed([p for p, _ in cands])))
        fit = _member_fit(vecs @ cents[members].T, sizes_arr[members])
        others = np.delete(vecs @ group_cents.T, row, axis=1)
        near_other = others.max(axis=1) if others.shape[1] else np.zeros(len(cands))
        pre = np.array([p for _, p in cands])
        score = fit - NAME_CONTRAST * near_other + NAME_PRESCORE_WEIGHT * pre / (pre.max() or 1.0)
        if parse is not None:  # written out once chosen; no penalty here (granularity.md)
            checks[g] = PhraseCheck(parse, person_words | PROFANE_WORDS)
        order = sorted(
            range(len(cands)),
            key=lambda i: (-round(score[i], 6), len(cands[i][0].split()), cands[i][0]),
        )
        scored[g] = [(float(score[i]), cands[i][0]) for i in order]
    taken = {n.lower() for n in (*theme_names, *reserved) if n}
    counts = word_counts(texts)

    def spelt(phrase: str) -> str:
        return format_name(corrected(phrase, counts))

    phrases: dict[int, str] = {}
    for g in sorted(scored, key=lambda g: (-max(scored[g])[0], g)):  # most convincing first
        pick = next((p for _, p in scored[g] if spelt(p).lower() not in taken), None)
        if pick is not None:
            said = checks[g].written(pick, group_texts[g]) if g in checks else pick
            phrases[g] = as_written(spelt(said), group_texts[g])
            taken.add(phrases[g].lower())
    return group_labels(groups_arr, keywords, sizes_arr, theme_names=theme_names, names=phrases)
