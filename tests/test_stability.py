"""Refit hysteresis: contacts stay put unless the new fit is clearly better."""

from __future__ import annotations

import numpy as np

from rca.cluster.stability import carved_themes, reconcile


def _blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16))
    labels = np.repeat(np.arange(3), 60)
    X = centres[labels] + 0.35 * rng.normal(size=(180, 16))
    return X / np.linalg.norm(X, axis=1, keepdims=True), labels


def test_without_a_previous_fit_nothing_changes() -> None:
    X, truth = _blobs()
    ids = [f"T{t}" for t in truth]
    out = reconcile(X, ids, [""] * len(ids), margin=0.05, min_size=5, threshold=0.0)
    assert out.theme_ids == ["T0", "T1", "T2"]
    assert [out.theme_ids[i] for i in out.labels] == ids
    assert out.moved_back == 0 and out.restored == []


def test_boundary_jitter_is_undone_but_clear_moves_are_kept() -> None:
    X, truth = _blobs()
    previous = [f"T{t}" for t in truth]
    new = list(previous)
    new[0] = "T1"  # a blob-0 contact the refit put in blob 1: clearly worse, goes back
    out = reconcile(X, new, previous, margin=0.05, min_size=5, threshold=0.0)
    assert out.theme_ids[out.labels[0]] == "T0"
    assert out.moved_back == 1
    # With no margin, a contact that is genuinely closer to its new theme does move.
    previous_wrong = list(previous)
    previous_wrong[70] = "T0"  # was (wrongly) in T0, truly blob 1; the refit fixes it
    out = reconcile(X, previous, previous_wrong, margin=0.0, min_size=5, threshold=0.0)
    assert out.theme_ids[out.labels[70]] == "T1"


def test_a_theme_the_refit_merged_away_is_restored() -> None:
    X, truth = _blobs()
    previous = [f"T{t}" for t in truth]
    new = ["T1" if t in (1, 2) else "T0" for t in truth]  # blobs 1 and 2 merged into T1
    out = reconcile(X, new, previous, margin=0.05, min_size=5, threshold=0.0)
    assert out.restored == ["T2"]
    assert [out.theme_ids[i] for i in out.labels] == previous


def test_themes_left_too_small_are_dissolved() -> None:
    X, truth = _blobs()
    previous = [f"T{t}" for t in truth]
    new = list(previous)
    for i in range(3):  # a tiny spurious new theme taken from blob 0
        new[i] = "T9"
    out = reconcile(X, new, previous, margin=0.0, min_size=5, threshold=0.0)
    assert "T9" not in out.theme_ids
    assert all(out.theme_ids[out.labels[i]] == "T0" for i in range(3))


def test_a_theme_carved_out_of_old_ones_is_found_but_not_one_of_new_contacts() -> None:
    previous = ["T1"] * 40 + [""] * 40  # 40 contacts the previous fit put in T1, 40 it never saw
    carved = ["T1"] * 20 + ["T7"] * 20 + ["T1"] * 40
    assert carved_themes(carved, previous, ["T1"]) == ["T7"]
    emerging = ["T1"] * 35 + ["T8"] * 45  # 5 old contacts, 40 unseen: a new problem
    assert carved_themes(emerging, previous, ["T1"]) == []
    # contacts outside the previous fit's window reached its themes through `rca assign`:
    # a theme of theirs is new, not a re-cut
    late = np.zeros(80, dtype=bool)
    late[:40] = True
    after = ["T1"] * 20 + ["T7"] * 20 + ["T1"] * 40
    assert carved_themes(after, previous, ["T1"], seen=~late) == []


def test_a_held_theme_is_not_applied_and_its_contacts_keep_their_theme() -> None:
    X, truth = _blobs()
    previous = [f"T{t}" for t in truth]
    previous[120:130] = [""] * 10  # blob 2 contacts the previous fit left unassigned
    new = list(previous)
    new[120:180] = ["T9"] * 60  # the refit made blob 2 a new theme T9; it was T2 before
    applied = reconcile(X, new, previous, margin=0.05, min_size=5, threshold=0.0)
    assert "T9" in applied.theme_ids  # without the hold the refit's new theme is applied
    out = reconcile(X, new, previous, margin=0.05, min_size=5, threshold=0.0, hold=["T9"])
    assert "T9" not in out.theme_ids and out.held == ["T9"]
    assert [out.theme_ids[i] for i in out.labels[130:180]] == ["T2"] * 50
    # the ten it had never placed join their nearest theme, as a dissolved theme's members do
    assert [out.theme_ids[i] for i in out.labels[120:130]] == ["T2"] * 10


def test_a_held_part_that_quotes_one_letter_says_so() -> None:
    """A refit can carve a copied letter out of a theme. The proposal says what the theme notes
    would say of it, so the reviewer knows it is a template before splitting it off; a held
    part in customers' own words gets no note."""
    from rca.cluster.held import held_proposals
    from rca.cluster.stability import Reconciled

    rng = np.random.default_rng(5)
    rest = [f"my card payment number {i} was declined at the shop on day {i}" for i in range(40)]
    letter = (
        "under section 609 the consumer reporting agency can not furnish any report containing "
        "information that is inaccurate so please remove the account"
    )
    who = ["equifax", "experian", "transunion", "innovis", "lexis", "sagestream"]
    members = [f"to {w}, as {v} I write: {letter}" for w in who for v in ("owner", "holder")]
    texts = rest + members
    X = rng.normal(size=(len(texts), 8))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    final = Reconciled(["T0001"], np.zeros(len(texts), dtype=np.int64), X[:1], [], 0, ["T0009"])
    lineage = np.array(["T0001"] * len(rest) + ["T0009"] * len(members), dtype=object)
    (held,) = held_proposals(["T0009"], lineage, final, ["Card payment declined"], texts, X)
    message = held.proposal.message
    assert "Template text: 100% of its texts quote the passage" in message, message
    assert message.index("Template text") < message.index("Held for review, not applied")
    plain = [f"my {card} was {what} at the {shop}" for card in ("visa", "debit card", "card")
             for what in ("declined", "refused") for shop in ("till", "pharmacy")]  # fmt: skip
    (held,) = held_proposals(["T0009"], lineage, final, ["Card payment declined"], rest + plain, X)
    assert "Template" not in held.proposal.message
