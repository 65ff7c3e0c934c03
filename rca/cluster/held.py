"""Themes a refit carved out of existing ones, described for the person who decides.

`rca.cluster.stability.carved_themes` finds them and `reconcile` keeps their contacts where
they were; this module turns each into a proposal that says where it sits and what it is about,
so `rca taxonomy list`, the dashboard and the API can show it. Its name and keywords contrast
the held contacts with the rest of the theme they sit in (c-TF-IDF and `problem_names` on those
two groups), because what a reviewer needs is what sets them apart from their theme, not from
every theme.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from rca.cluster.labels import (
    label_themes,
    problem_names,
    read_names,
    theme_companies,
    theme_descriptions,
)
from rca.cluster.stability import Reconciled
from rca.cluster.taxonomy import Proposal
from rca.text.name_kinds import EntityReader
from rca.text.syntax import Parser

KIND = "new_theme"
# The contrast group (the rest of the theme) is capped so a held part of a 50,000-contact theme
# costs as much to describe as any other; an even stride keeps it deterministic.
MAX_CONTRAST = 5_000
KEYWORDS_SHOWN = 4
# Another theme is named beside the main one when at least this share of the held contacts
# sits there.
OTHER_SOURCE_SHARE = 0.1


@dataclass(frozen=True)
class HeldTheme:
    theme_id: str  # the id the refit's lineage gave it; never issued (not applied)
    size: int
    parent_id: str  # the theme most of its contacts stay in ("" if none)
    label: str
    keywords: list[str]
    proposal: Proposal


def _stride(rows: np.ndarray, cap: int) -> np.ndarray:
    if len(rows) <= cap:
        return rows
    return rows[np.linspace(0, len(rows) - 1, cap).astype(np.int64)]


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


def held_proposals(
    held: Sequence[str],
    lineage_ids: np.ndarray,
    final: Reconciled,
    names: Sequence[str],
    texts: Sequence[str],
    X: np.ndarray,
    *,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    person_words: frozenset[str] = frozenset(),
    reserved: Collection[str] = (),
    contact_ids: Sequence[str] | None = None,
    parse: Parser | None = None,
    entities: EntityReader | None = None,
) -> list[HeldTheme]:
    """One `HeldTheme` per held id. `lineage_ids[i]`: contact i's id in the refit before the
    hysteresis; `final`: the reconciled fit whose `names` the catalog shows. A held theme's name
    is never one of `names` or `reserved` (generated names a person's pinned name replaced):
    "12 contacts of T0002 'Card payment' read as a theme of their own: 'Card payment'" tells
    the reviewer nothing. With `contact_ids` (one per row) each proposal carries its held
    contacts, so `rca taxonomy split --proposed` can preview exactly this cut."""
    taken = sorted({n for n in (*names, *reserved) if n})
    out = []
    for theme_id in held:
        members = np.flatnonzero(lineage_ids == theme_id)
        if not len(members):
            continue
        landed = final.labels[members]
        landed = landed[landed >= 0]
        counts = np.bincount(landed, minlength=len(final.theme_ids)) if len(landed) else None
        parent = int(np.argmax(counts)) if counts is not None else -1
        rest = (
            np.flatnonzero(final.labels == parent)
            if parent >= 0
            else np.flatnonzero(lineage_ids != theme_id)
        )
        rest = _stride(np.setdiff1d(rest, members), MAX_CONTRAST)
        rows = np.concatenate([rest, members])
        sub_labels = np.concatenate(
            [np.zeros(len(rest), dtype=np.int64), np.ones(len(members), dtype=np.int64)]
        )
        sub_texts = [texts[i] for i in rows]
        described = label_themes(sub_texts, sub_labels, person_words=person_words).set_index(
            "theme"
        )
        keywords = {t: list(described.loc[t, "keywords"]) for t in described.index}
        centroids = np.stack(
            [_unit(np.asarray(X[rows[sub_labels == t]], dtype=np.float64).sum(axis=0))
             for t in (0, 1)]
        )  # fmt: skip
        # the capitalised names read once for the name's companies and the note (as a fit does)
        reads = read_names(sub_texts, sub_labels, person_words=person_words)
        named = problem_names(
            sub_texts,
            sub_labels,
            X[rows],
            centroids,
            keywords=keywords,
            embed=embed,
            person_words=person_words,
            reserved=taken,
            parse=parse,
            companies=theme_companies(sub_texts, sub_labels, entities=entities, reads=reads),
        )
        label = named.get(1) or (described.loc[1, "label"] if 1 in described.index else "")
        # what the theme notes say of a theme (template campaign, template text, one company),
        # said of the held part against the rest of its theme: a proposed theme is read before
        # it is accepted, and a copied letter or one company's campaign is what a reviewer most
        # needs to know then. (CFPB's held part of 123 credit-report texts, named after a
        # passage 12 % of them quote, gets no note: under the notes' 50 %.)
        note = theme_descriptions(sub_texts, sub_labels, entities=entities, reads=reads).get(1, "")
        words = [str(w) for w in keywords.get(1, [])][:KEYWORDS_SHOWN]
        parent_id = final.theme_ids[parent] if parent >= 0 else ""
        others = (
            tuple(
                final.theme_ids[t]
                for t in np.flatnonzero(counts >= OTHER_SOURCE_SHARE * len(members))
                if t != parent
            )
            if counts is not None
            else ()
        )
        where = f"{parent_id} '{names[parent]}'" if parent >= 0 else "no theme"
        in_parent = int(counts[parent]) if parent >= 0 and counts is not None else 0
        # the count a preview of the cut shows: a held theme also takes contacts from other
        # themes (CFPB: 345 held, 300 of them in the theme the message names)
        whose = (
            f"{len(members)} contacts of {where}"
            if in_parent == len(members) or parent < 0
            else f"{len(members)} contacts, {in_parent} of them in {where},"
        )
        message = (
            f"{whose} read as a theme of their own: '{label}' "
            f"({', '.join(words)}). "
            + (f"{note}. " if note else "")
            + "Held for review, not applied: "
            + (
                f"`rca taxonomy split {parent_id} --proposed` previews this cut, "
                f"`rca taxonomy keep {parent_id}` declines it, "
                if parent_id
                else ""
            )
            + "`rca fit --apply-new-themes` applies the refit's cut"
        )
        out.append(
            HeldTheme(
                theme_id=theme_id,
                size=len(members),
                parent_id=parent_id,
                label=label,
                keywords=words,
                proposal=Proposal(
                    parent_id or theme_id,
                    KIND,
                    message,
                    others,
                    tuple(str(contact_ids[i]) for i in members) if contact_ids is not None else (),
                    label=label,
                    keywords=tuple(str(w) for w in keywords.get(1, [])),
                ),
            )
        )
    return out
