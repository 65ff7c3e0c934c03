"""Parent groups named in customers' words: a phrase that holds every member theme."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rca.cluster.labels import problem_names, theme_keywords
from rca.cluster.parent_names import parent_problem_names
from rca.embed.encoder import encoder_from_settings
from rca.settings import Settings
from tests.test_theme_labels import CARD_NOT_ARRIVED, PASSWORD_RESET, REFUND_STATUS

REFUND_WRONG_CARD = [
    "My refund went to the wrong card, I closed that card last year.",
    "The refund was paid to an old card, how do I get the refund back?",
    "Refund sent to the wrong account, please move the refund to my new card.",
    "You refunded the wrong card, the refund should go to my debit card.",
    "My refund went to a cancelled card, where is the money now?",
    "The refund landed on the wrong card, can you send the refund again?",
    "Refund paid to my old credit card instead of my new one.",
    "Why did my refund go to the wrong payment method?",
]
REFUND_PARTIAL = [
    "I only got a partial refund, the shipping was not refunded.",
    "The refund was less than I paid, why is my refund partial?",
    "Partial refund received, I want the full refund for the order.",
    "You refunded only half of the price, where is the rest of my refund?",
    "My refund is missing the delivery fee, I want a full refund.",
    "Only part of the refund arrived, the refund amount is wrong.",
    "The refund amount does not match what I paid.",
    "Why was my refund reduced? I expected a full refund.",
]


@pytest.fixture(scope="module")
def encode(tmp_path_factory: pytest.TempPathFactory):
    return encoder_from_settings(Settings(home=tmp_path_factory.mktemp("parent-names"))).encode


def test_a_group_of_refund_themes_is_named_by_a_refund_phrase_none_of_its_themes_has(
    encode,
) -> None:
    themes = [REFUND_STATUS, REFUND_WRONG_CARD, REFUND_PARTIAL, CARD_NOT_ARRIVED, PASSWORD_RESET]
    texts = [t for theme in themes for t in theme]
    labels = np.repeat(np.arange(len(themes)), [len(t) for t in themes])
    X = np.asarray(encode(texts), dtype=np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    centroids = np.stack([X[labels == t].mean(axis=0) for t in range(len(themes))])
    keywords = theme_keywords(texts, labels)
    names = problem_names(texts, labels, X, centroids, keywords=keywords, embed=encode)
    theme_names = [names[t] for t in range(len(themes))]
    groups = np.array([0, 0, 0, 1, 2])
    args = (texts, labels, groups, X, centroids, np.bincount(labels))
    kw = {"keywords": keywords, "theme_names": theme_names}

    named = parent_problem_names(*args, **kw, embed=encode)
    assert named == parent_problem_names(*args, **kw, embed=encode)  # deterministic
    refunds = named[0]
    assert "refund" in refunds.lower() and "/" not in refunds, refunds
    assert refunds.lower() not in {n.lower() for n in theme_names}, (refunds, theme_names)
    assert 1 <= len(re.findall(r"\w+", refunds)) <= 6
    # a one-theme group is its theme
    assert named[1] == theme_names[3] and named[2] == theme_names[4]
    # a name a person pinned is not taken either
    assert parent_problem_names(*args, **kw, embed=encode, reserved=[refunds])[0] != refunds
    # without an encoder: the pooled keywords, as before
    assert parent_problem_names(*args, **kw, embed=None)[0] == "Refund"
    # with the parse (rca.text.syntax) the heading is still a refund phrase, written out
    from rca.text.syntax import load_parser

    parsed = parent_problem_names(*args, **kw, embed=encode, parse=load_parser(
        Settings().name_parser_model))  # fmt: skip
    assert "refund" in parsed[0].lower() and "/" not in parsed[0], parsed
    assert parsed[0].lower() not in {n.lower() for n in theme_names}, parsed


def test_the_name_fits_the_member_it_fits_least_not_the_biggest_member() -> None:
    """A heading must hold all of its themes. "Alpha beta" is the big member's phrase and sits
    at the group's size-weighted mean; "Gamma delta" is written across the group and fits every
    member fairly: the group takes it (by the cosine to the group's mean it would take the
    other)."""
    axes = np.eye(4)
    texts = (
        [f"alpha beta case {i}" for i in range(6)]  # the big member
        + ["gamma delta first", "gamma delta again"]
        + ["gamma delta here", "gamma delta there"]
        + ["omega sigma one", "omega sigma two"]
    )
    labels = np.array([0] * 6 + [1] * 2 + [2] * 2 + [3] * 2)
    geometry = {
        "alpha beta": np.array([0.95, 0.2, 0.2, 0.0]),
        "gamma delta": np.array([0.6, 0.55, 0.55, 0.0]),
    }

    def embed(phrases: list[str]) -> np.ndarray:  # a fixed geometry, to make the point exact
        return np.stack([geometry.get(p, axes[3]) for p in phrases])

    named = parent_problem_names(
        texts,
        labels,
        np.array([0, 0, 0, 1]),
        axes[labels],
        axes,
        [100, 5, 5, 2],
        keywords={0: ["alpha"], 1: ["gamma"], 2: ["gamma"], 3: ["omega"]},
        theme_names=["Alpha case", "Gamma first", "Gamma here", "Omega sigma"],
        embed=embed,
    )
    assert named == {0: "Gamma delta", 1: "Omega sigma"}
