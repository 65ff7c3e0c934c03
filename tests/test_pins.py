"""A pinned name the refit moved nearer another theme is proposed for review, never changed."""

from __future__ import annotations

import numpy as np
import pytest

from rca.cluster.pins import moved_pins
from rca.embed.encoder import encoder_from_settings
from rca.settings import Settings
from tests.test_theme_labels import CARD_NOT_ARRIVED, PASSWORD_RESET, REFUND_STATUS


@pytest.fixture(scope="module")
def encode(tmp_path_factory: pytest.TempPathFactory):
    return encoder_from_settings(Settings(home=tmp_path_factory.mktemp("pins"))).encode


def _centroid(encode, texts: list[str]) -> np.ndarray:
    X = np.asarray(encode(texts), dtype=np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.mean(axis=0)


def test_a_pin_whose_theme_now_holds_other_contacts_is_proposed(encode) -> None:
    """T0001 was the card theme, pinned "Card never arrived". The refit kept the id but its
    contacts are now refund questions and the card contacts sit in T0003: the pin is proposed,
    naming the theme it now fits. The untouched pin on T0002 is not."""
    card, refund, password = (
        _centroid(encode, texts) for texts in (CARD_NOT_ARRIVED, REFUND_STATUS, PASSWORD_RESET)
    )
    before = (["T0001", "T0002", "T0003"], np.stack([card, password, refund]))
    after = (["T0001", "T0002", "T0003"], np.stack([refund, password, card]))
    pinned = {"T0001": "Card never arrived", "T0002": "Locked out of the account"}
    fitted = {"T0001": "Refund status", "T0002": "Reset my password", "T0003": "Card not arrived"}
    proposals = moved_pins(pinned, before, after, embed=encode, fitted_names=fitted)
    assert [(p.theme_id, p.kind, p.related_ids) for p in proposals] == [
        ("T0001", "pinned_name", ("T0003",))
    ]
    message = proposals[0].message
    assert "'Card never arrived'" in message and "'Refund status'" in message
    assert "rca taxonomy keep T0001" in message
    # nothing moved: nothing to review
    assert moved_pins(pinned, before, before, embed=encode, fitted_names=fitted) == []


def test_a_pin_already_nearer_another_theme_is_not_proposed_again() -> None:
    """People name themes their own way; a pin that was nearer another theme when it was made
    (or when the last refit proposed it) is not raised at every refit, nor one the refit's own
    name could not place better."""
    axes = np.eye(3)
    geometry = {"Billing": axes[1], "Moved": axes[0], "Own one": axes[1], "Own three": axes[2],
                "Elsewhere": axes[0]}  # fmt: skip

    def embed(names: list[str]) -> np.ndarray:  # a fixed geometry, to make the point exact
        return np.stack([geometry.get(n, np.ones(3)) for n in names])

    ids = ["T0001", "T0002", "T0003"]
    before, after = (ids, axes), (ids, axes[[1, 0, 2]])  # T0001 and T0002 swap places
    fitted = {"T0001": "Own one", "T0003": "Own three"}
    pinned = {"T0001": "Billing", "T0003": "Moved"}  # Billing was already nearest T0002
    assert moved_pins(pinned, before, after, embed=embed, fitted_names=fitted) == []
    moved = moved_pins({"T0001": "Moved"}, before, after, embed=embed, fitted_names=fitted)
    assert [(p.theme_id, p.related_ids) for p in moved] == [("T0001", ("T0002",))]
    # the refit's own name is no nearer the theme: names cannot tell it apart, nothing to say
    unplaced = {"T0001": "Moved"}
    assert (
        moved_pins(unplaced, before, after, embed=embed, fitted_names={"T0001": "Elsewhere"}) == []
    )
    # a theme the refit retired or created is lineage's business
    assert moved_pins({"T0009": "Moved"}, before, after, embed=embed, fitted_names=fitted) == []
