"""Issue 19: a taxonomy people can correct.

The pure rules on hand-made themes (rename, merge, hide, split previews and accepts, created
themes, bad edits, idempotent repeats, what a refit proposes), then the real thing on a copy of
the fitted demo: every report reads the curated view, a preview changes nothing, the CLI's
errors are one line, and curated names, merges and hidden themes survive a reseeded refit.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import copy_home, run_cli

from rca.cluster.taxonomy import (
    Edit,
    TaxonomyError,
    UnknownEditError,
    UnknownThemeError,
    curate,
    is_noop,
    review_after_refit,
    route,
    split_children,
    unanswered,
    validate,
    validate_undo,
)
from rca.settings import Settings

EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def _themes() -> pd.DataFrame:
    centroids = np.eye(4, dtype=np.float32)
    return pd.DataFrame(
        {
            "theme_id": ["T0001", "T0002", "T0003", "T0004"],
            "label": ["Refund", "Refund / Money", "Card", "Hello / Thanks"],
            "keywords": [["refund"], ["money"], ["card"], ["hello"]],
            "parent_group": ["Money", "Money", "Card", "Other"],
            "size": [10, 5, 8, 3],
            "centroid": list(centroids),
        }
    )


def _preview(theme_id: str = "T0003", edit_id: str = "E0004") -> Edit:
    children = [
        {"label": "Card lost", "keywords": ["lost"], "size": 5, "centroid": [0, 0, 1, 1]},
        {"label": "Card late", "keywords": ["late"], "size": 3, "centroid": [0, 0, 1, -1]},
    ]
    return Edit(edit_id, "split", theme_id, {"children": children})


EDITS = [
    Edit("E0001", "rename", "T0001", {"label": "Refund not showing"}, "ann", "clearer"),
    Edit("E0002", "merge", "T0001", {"sources": ["T0002"]}, "ann", "same problem"),
    Edit("E0003", "hide", "T0004", {}, "bob", "small talk"),
    _preview(),
]


def test_rename_merge_hide_and_a_preview_that_changes_nothing() -> None:
    view = curate(_themes(), EDITS)
    rows = view.themes.set_index("theme_id")
    assert rows.loc["T0001", "label"] == "Refund not showing" and rows.loc["T0001", "pinned"]
    assert "T0002" not in rows.index and view.merged == {"T0002": "T0001"}
    assert rows.loc["T0001", "size"] == 15  # merged themes count as one
    assert view.hidden_ids == {"T0004"}
    assert "T0003" in rows.index and not view.split_into  # the preview is not applied
    moved = curate(_themes(), [*EDITS, Edit("E0005", "move", "T0003", {"parent_group": " Money "})])
    assert moved.themes.set_index("theme_id").loc["T0003", "parent_group"] == "Money"
    fitted = np.array(["T0001", "T0002", "T0003", "", "T0004"], dtype=object)
    X = np.eye(4)[[0, 1, 2, 3, 3]]
    assert route(fitted, X, view).tolist() == ["T0001", "T0001", "T0003", "", "T0004"]


def test_an_accepted_split_and_a_created_theme_route_by_similarity() -> None:
    accept = Edit(
        "E0005", "accept", "T0003", {"preview_id": "E0004", "child_ids": ["T0010", "T0011"]}
    )
    create = Edit("E0006", "create", "T0012",
                  {"label": "Greetings", "centroid": [0, 0, 0, 1], "threshold": 0.9})  # fmt: skip
    view = curate(_themes(), [*EDITS, accept, create])
    assert view.split_into == {"T0003": ["T0010", "T0011"]} and view.needs_vectors
    X = np.array(
        [
            [
                0,
                0,
                1,
                0.2,
            ],
            [0, 0, 1, -0.3],
            [0, 0, 0, 1],
            [1, 0, 0, 0],
        ],
        dtype=float,
    )
    fitted = np.array(["T0003", "T0003", "", "T0001"], dtype=object)
    assert route(fitted, X, view).tolist() == ["T0010", "T0011", "T0012", "T0001"]
    # one row alone gets the answer it gets in the batch
    assert route(fitted[:1], X[:1], view).tolist() == ["T0010"]


def test_created_themes_compete_for_a_contact_close_to_both() -> None:
    """Reason codes seeded together: a contact over both thresholds joins the nearer code,
    whichever was created first (before, the last one made took it)."""

    def made(edit_id: str, theme_id: str, centroid: list[float]) -> Edit:
        return Edit(edit_id, "create", theme_id,
                    {"label": theme_id, "centroid": centroid, "threshold": 0.5})  # fmt: skip

    refund, payment = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]
    X = np.array([[0.8, 0.6, 0.0], [0.6, 0.8, 0.0], [0.7, 0.7, 0.0], [0.0, 0.0, 1.0]])
    fitted = np.array(["T0001", "T0001", "T0002", "T0003"], dtype=object)
    for order in ([("E1", "T0010", refund), ("E2", "T0011", payment)],
                  [("E1", "T0011", payment), ("E2", "T0010", refund)]):  # fmt: skip
        view = curate(_themes(), [made(*edit) for edit in order])
        got = route(fitted, X, view).tolist()
        assert got[:2] == ["T0010", "T0011"], (order, got)
        assert got[2] in ("T0010", "T0011")  # a tie keeps the first code that took it
        assert got[3] == "T0003"  # similar to neither: stays in its fitted theme
        for i in range(len(X)):  # one row alone gets the answer it gets in the batch
            assert route(fitted[i : i + 1], X[i : i + 1], view).tolist() == [got[i]]


def test_contacts_filed_by_hand_stay_where_a_person_put_them() -> None:
    """`reassign`: the named contacts go to its theme whatever their fitted theme or a created
    theme's similarity says; a later merge of that theme takes them along, a later split
    spreads them by similarity, and an undo gives them back to routing."""
    cids = np.array(["c1", "c2", "c3", "c4"], dtype=object)
    fitted = np.array(["T0001", "T0003", "", "T0003"], dtype=object)
    X = np.array([[1, 0, 0, 0], [0, 0, 1, 0.2], [0, 0, 0, 1], [0, 0, 1, 0.1]], dtype=float)
    filed = Edit("E0005", "reassign", "T0004", {"contacts": [" c1", "c3"]}, "ann", "hello only")
    view = curate(_themes(), [*EDITS, filed])
    assert (
        view.has_pins and not view.needs_vectors and view.pinned() == {"c1": "T0004", "c3": "T0004"}
    )
    assert route(fitted, X, view, cids).tolist() == ["T0004", "T0003", "T0004", "T0003"]
    with pytest.raises(ValueError, match="ids"):
        route(fitted, X, view)  # a caller that forgot the ids would lose the pins silently
    assert route(fitted[:0], X[:0], view).tolist() == []
    # a created theme nearer to c1 than anything does not take it; it takes the unfiled c2
    near = Edit("E0006", "create", "T0012", {"label": "Refund", "centroid": [1, 0, 1, 0],
                                             "threshold": 0.5})  # fmt: skip
    both = curate(_themes(), [*EDITS, filed, near])
    got = route(fitted, X, both, cids).tolist()
    assert got == ["T0004", "T0012", "T0004", "T0012"]
    for i in range(len(X)):  # one row alone gets the answer it gets in the batch
        assert route(fitted[i : i + 1], X[i : i + 1], both, cids[i : i + 1]).tolist() == [got[i]]
    # filed before the code was created or after: the person's decision holds either way
    after = curate(_themes(), [*EDITS, near, filed])
    assert route(fitted, X, after, cids).tolist() == got
    # merged into T0003 later: they follow their theme
    merged = curate(_themes(), [*EDITS, filed, Edit("E0007", "merge", "T0003",
                                                    {"sources": ["T0004"]})])  # fmt: skip
    assert route(fitted, X, merged, cids).tolist()[::2] == ["T0003", "T0003"]
    assert merged.pinned() == {"c1": "T0003", "c3": "T0003"}
    # filed into the card theme, which is split later: the split routes them by similarity
    card = Edit("E0008", "reassign", "T0003", {"contacts": ["c1"]})
    accept = Edit("E0009", "accept", "T0003", {"preview_id": "E0004",
                                               "child_ids": ["T0010", "T0011"]})  # fmt: skip
    split = curate(_themes(), [*EDITS, card, accept])
    assert route(fitted, X, split, cids)[0] in ("T0010", "T0011") and not split.pinned()
    undone = curate(_themes(), [*EDITS, filed, Edit("E0010", "undo", "T0004",
                                                    {"edit_id": "E0005"})])  # fmt: skip
    assert route(fitted, X, undone).tolist() == ["T0001", "T0003", "", "T0003"]
    # a refit's new fitted ids do not move them either (`carry_edits` routes the new fit)
    from rca.jobs.curate import carry_edits

    refit = pd.DataFrame({"contact_id": cids, "theme_id": ["T0001", "T0002", "T0001", "T0003"]})
    members, _ = carry_edits([*EDITS, filed], _themes(), pd.DataFrame(
        {"event": [], "theme_id": [], "related_ids": []}), {}, refit, None)  # fmt: skip
    assert members.set_index("contact_id")["theme_id"].to_dict() == {
        "c1": "T0004", "c2": "T0001", "c3": "T0004",  # c2: T0002 merged into T0001
    }  # fmt: skip


def test_a_taught_reassign_files_the_contacts_like_the_ones_named() -> None:
    """`reassign` with what it teaches (the filed contacts' mean and a threshold): every
    contact, this week's or a later one's, that is at least the threshold similar to that
    mean and nearer to it than to its own theme's centre joins the theme; a contact clearly in
    its own theme stays, one with no theme joins, and an undo gives them all back."""
    cids = np.array([f"c{i}" for i in range(1, 7)], dtype=object)
    fitted = np.array(["T0001", "T0001", "T0001", "", "T0003", "T0002"], dtype=object)
    X = np.array(
        [
            [0.3, 0, 0, 1],  # c1: filed by hand
            [0.35, 0, 0, 1],  # c2: like c1, far from refunds' centre
            [1, 0, 0, 0.5],  # c3: like c1 (0.69) but nearer refunds' centre (0.89)
            [0, 0, 0.2, 1],  # c4: no theme, like c1
            [0, 0, 1, 0],  # c5: a card contact, unlike c1
            [0, 1, 0, 1],  # c6: fitted in T0002, which E0002 merged into T0001
        ]
    )
    taught = Edit("E0005", "reassign", "T0004", {"contacts": ["c1"], "centroid": X[0].tolist(),
                                                 "threshold": 0.5})  # fmt: skip
    view = curate(_themes(), [*EDITS, taught])
    assert view.needs_vectors and view.pinned() == {"c1": "T0004"}
    got = route(fitted, X, view, cids).tolist()
    assert got == ["T0004", "T0004", "T0001", "T0004", "T0003", "T0004"]
    for i in range(len(X)):  # one row alone gets the answer it gets in the batch
        assert route(fitted[i : i + 1], X[i : i + 1], view, cids[i : i + 1]).tolist() == [got[i]]
    with pytest.raises(ValueError, match="vectors"):
        route(fitted, None, view, cids)
    strict = curate(_themes(), [*EDITS, Edit("E0005", "reassign", "T0004", {
        **taught.params, "threshold": 0.95})])  # fmt: skip
    assert route(fitted, X, strict, cids).tolist() == ["T0004", "T0004", "T0001", "",
                                                       "T0003", "T0001"]  # fmt: skip
    undone = curate(_themes(), [*EDITS, taught, Edit("E0006", "undo", "T0004",
                                                     {"edit_id": "E0005"})])  # fmt: skip
    assert route(fitted, X, undone, cids).tolist() == ["T0001", "T0001", "T0001", "",
                                                       "T0003", "T0001"]  # fmt: skip
    # a refit's new fitted ids: the lesson is replayed on them (`carry_edits` routes the new
    # fit with the contacts' vectors), so c2 and c4 follow c1 again
    from rca.jobs.curate import carry_edits

    refit = pd.DataFrame({"contact_id": cids, "theme_id": ["T0001", "T0001", "T0001", "T0003",
                                                           "T0003", "T0001"]})  # fmt: skip
    events = pd.DataFrame({"event": [], "theme_id": [], "related_ids": []})
    members, _ = carry_edits([*EDITS, taught], _themes(), events, {}, refit, X)
    assert members.set_index("contact_id")["theme_id"].to_dict() == dict.fromkeys(
        ["c1", "c2", "c4", "c6"], "T0004"
    )  # the contacts whose curated theme differs from the refit's
    for params, message in (
        ({"centroid": [], "threshold": 0.5}, "vectors"),
        ({"centroid": [1, 0, 0, 0], "threshold": 1.5}, r"\(0, 1\]"),
    ):
        with pytest.raises(TaxonomyError, match=message):
            validate(Edit("x", "reassign", "T0004", {"contacts": ["c1"], **params}), view)


def test_filing_contacts_answers_no_proposal() -> None:
    """Filing a few cases under a theme is not a decision about the refit's proposal on it."""
    at, after = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
    proposals = [{"theme_id": "T0004", "kind": "retired", "message": "c", "related_ids": [],
                  "created_at": at}]  # fmt: skip
    filed = Edit("E0001", "reassign", "T0004", {"contacts": ["c1"]}, "ann", None, after)
    assert len(unanswered(proposals, [filed])) == 1


def _made_one_by_one(fitted: np.ndarray, X: np.ndarray, codes: list[Edit]) -> list[str]:
    """The rule for created themes, one contact and one code at a time in plain Python: the
    reference the batched routing must equal exactly."""
    out = []
    for theme_id, x in zip(fitted, X, strict=True):
        x = x / np.linalg.norm(x)
        holder, held = str(theme_id), -np.inf
        for code in codes:
            c = np.asarray(code.params["centroid"], dtype=float)
            sim = float(np.sum(x * (c / np.linalg.norm(c))))
            if sim >= code.params["threshold"] and sim > held:
                holder, held = code.theme_id, sim
        out.append(holder)
    return out


def test_many_created_themes_route_exactly_as_one_by_one_ties_and_thresholds_included() -> None:
    """Created themes are scored together by one BLAS product; a contact whose answer is a
    near tie (two identical codes, a similarity equal to a threshold) is decided again the
    elementwise way, so the batch equals the one-by-one rule and each row alone."""
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(12, 16))
    centres[7] = centres[6]  # two codes with the same vector: every tie goes to the earlier
    X = centres[rng.integers(0, 12, 400)] + rng.normal(scale=0.9, size=(400, 16))
    X[:12] = centres  # contacts exactly on a code
    X[12] = centres[3] + rng.normal(scale=0.5, size=16)  # code 3's threshold is its similarity
    sims = np.sum((X[12] / np.linalg.norm(X[12])) * (centres[3] / np.linalg.norm(centres[3])))
    thresholds = [0.5, 0.6, 0.4, float(sims), 0.5, 0.7, 0.5, 0.5, 0.3, 0.55, 0.45, 0.65]
    codes = [Edit(f"E{j:03d}", "create", f"T{100 + j:04d}",
                  {"label": f"code {j}", "centroid": centres[j].tolist(),
                   "threshold": thresholds[j]}) for j in range(12)]  # fmt: skip
    view = curate(_themes(), codes)
    fitted = np.array(rng.choice(["T0001", "T0002", "T0003", ""], len(X)), dtype=object)
    got = route(fitted, X, view)
    assert got.tolist() == _made_one_by_one(fitted, X, codes)
    assert got[6] == "T0106" and got[7] == "T0106"  # the tie: the earlier code
    assert got[12] != fitted[12] and sum(got == "T0107") == 0
    for i in (3, 6, 7, 12, 50):
        assert route(fitted[i : i + 1], X[i : i + 1], view).tolist() == [got[i]]


@pytest.mark.parametrize(
    ("edit", "error", "words"),
    [
        (Edit("x", "rename", "T9999", {"label": "x"}), UnknownThemeError, "no theme 'T9999'"),
        (Edit("x", "merge", "T0001", {"sources": ["T0001"]}), TaxonomyError, "with itself"),
        (Edit("x", "rename", "T0001", {"label": "   "}), TaxonomyError, "name is empty"),
        (Edit("x", "rename", "T0002", {"label": "y"}), TaxonomyError, "merged into T0001"),
        (Edit("x", "merge", "T0001", {"sources": []}), TaxonomyError, "at least one"),
        (Edit("x", "move", "T0001", {"parent_group": ""}), TaxonomyError, "parent group"),
        (Edit("x", "accept", "T0003", {"preview_id": "E9"}), TaxonomyError, "no split preview"),
        (Edit("x", "drop", "T0001", {}), TaxonomyError, "unknown action"),
        (Edit("x", "reassign", "T0001", {"contacts": []}), TaxonomyError, "name the contacts"),
        (
            Edit("x", "reassign", "T0001", {"contacts": ["c1", " "]}),
            TaxonomyError,
            "name the contacts",
        ),
        (Edit("x", "reassign", "T0001", {"contacts": ["c1", "c1 "]}), TaxonomyError, "named twice"),
        (
            Edit("x", "reassign", "T0001", {"contacts": [f"c{i}" for i in range(1001)]}),
            TaxonomyError,
            "at most 1000",
        ),
        (Edit("x", "reassign", "T0009", {"contacts": ["c1"]}), UnknownThemeError, "no theme"),
        (Edit("x", "reassign", "T0002", {"contacts": ["c1"]}), TaxonomyError, "merged into"),
    ],
)
def test_bad_edits_say_what_is_wrong(edit: Edit, error: type, words: str) -> None:
    view = curate(_themes(), EDITS)
    with pytest.raises(error, match=words):
        validate(edit, view, view.previews)


def test_a_theme_taken_out_of_its_group_has_none() -> None:
    out = Edit("E0005", "move", "T0003", {"ungroup": True}, "ann", "not a card problem")
    view = curate(_themes(), [*EDITS, out])
    assert pd.isna(view.themes.set_index("theme_id").loc["T0003", "parent_group"])
    assert is_noop(Edit("x", "move", "T0003", {"ungroup": True}), view)
    assert not is_noop(Edit("x", "move", "T0001", {"ungroup": True}), view)
    assert not is_noop(Edit("x", "move", "T0003", {"parent_group": "Card"}), view)
    both = Edit("x", "move", "T0003", {"ungroup": True, "parent_group": "Card"})
    assert not is_noop(both, view)  # a contradiction is an error, not "already so"
    with pytest.raises(TaxonomyError, match="name a parent group or take"):
        validate(Edit("x", "move", "T0003", {"ungroup": True, "parent_group": "Card"}), view)
    with pytest.raises(TaxonomyError, match="parent group is empty"):
        validate(Edit("x", "move", "T0003", {"parent_group": "  "}), view)  # not by accident


def test_repeating_an_edit_changes_nothing() -> None:
    view = curate(_themes(), EDITS)
    assert is_noop(Edit("x", "rename", "T0001", {"label": " Refund  not showing"}), view)
    assert is_noop(Edit("x", "hide", "T0004", {}), view)
    assert not is_noop(Edit("x", "unhide", "T0004", {}), view)
    assert not is_noop(Edit("x", "rename", "T0003", {"label": "Card"}), view)  # not pinned yet
    # a keep repeats nothing once the theme is kept, unless a refit proposed something about it
    kept = curate(_themes(), [*EDITS, Edit("E0009", "keep", "T0003", {})])
    keep = Edit("x", "keep", "T0003", {})
    assert not is_noop(keep, view) and is_noop(keep, kept)
    assert not is_noop(keep, kept, [{"theme_id": "T0003", "related_ids": []}])
    assert not is_noop(keep, kept, [{"theme_id": "T0001", "related_ids": ["T0003"]}])
    assert is_noop(keep, kept, [{"theme_id": "T0001", "related_ids": []}])
    twice = curate(_themes(), [*EDITS, EDITS[1]])  # a merge logged twice applies once
    assert twice.merged == {"T0002": "T0001"} and len(twice.themes) == len(view.themes)


def test_an_undone_edit_is_replayed_out_of_the_view() -> None:
    undo = Edit("E0005", "undo", "T0001", {"edit_id": "E0002"}, "ann", "not the same problem")
    view = curate(_themes(), [*EDITS, undo])
    rows = view.themes.set_index("theme_id")
    assert "T0002" in rows.index and not view.merged and not view.routing
    assert rows.loc["T0001", "size"] == 10 and rows.loc["T0001", "label"] == "Refund not showing"
    assert view.hidden_ids == {"T0004"}  # the other edits still hold
    checked, done = validate_undo(Edit("E0006", "undo", "", {"edit_id": "E0002"}), [*EDITS, undo])
    assert checked.theme_id == "T0001" and checked.params["undone_action"] == "merge" and done
    with pytest.raises(UnknownEditError, match="no edit 'E0999'"):
        validate_undo(Edit("E0006", "undo", "", {"edit_id": "E0999"}), EDITS)
    with pytest.raises(TaxonomyError, match="is an undo"):
        validate_undo(Edit("E0006", "undo", "", {"edit_id": "E0005"}), [*EDITS, undo])
    # an edit a later one builds on: the strict replay says which theme is missing
    accept = Edit(
        "E0005", "accept", "T0003", {"preview_id": "E0004", "child_ids": ["T0010", "T0011"]}
    )
    rename = Edit("E0006", "rename", "T0010", {"label": "Card lost abroad"})
    undo_accept = Edit("E0007", "undo", "T0003", {"edit_id": "E0005"})
    with pytest.raises(UnknownThemeError, match="T0010"):
        curate(_themes(), [*EDITS, accept, rename, undo_accept], strict=True)


def test_a_refit_proposes_instead_of_overwriting() -> None:
    events = pd.DataFrame(
        {
            "event": ["split", "split", "kept", "retired"],
            "theme_id": ["T0001", "T0020", "T0003", "T0004"],
            "related_ids": [("T0020",), ("T0001",), (), ()],
        }
    )
    labels = {"T0001": "Refund not showing", "T0004": "Hello / Thanks"}
    proposals = {p.theme_id: p for p in review_after_refit(EDITS, events, labels)}
    assert set(proposals) == {"T0001", "T0004"}
    assert "now splits into T0001, T0020" in proposals["T0001"].message
    assert "rca taxonomy merge T0001 T0020" in proposals["T0001"].message
    assert proposals["T0004"].kind == "retired"
    # after the refit the merge still holds where its themes live on, and T0004's edit waits
    refit = _themes().loc[lambda t: t["theme_id"] != "T0004"]
    view = curate(refit, EDITS)
    assert view.merged == {"T0002": "T0001"} and not view.hidden_ids


def test_a_proposal_a_person_acted_on_is_no_longer_open() -> None:
    """Open = no edit in force on its theme (or the themes it names) since it was made; a split
    preview alone, an undone edit and an edit from before the refit are no answer, and a carved
    theme is answered by what decides its contacts, not by renaming its theme."""
    at = datetime(2026, 11, 20, tzinfo=UTC)
    before, after = datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
    proposals = [
        {"theme_id": "T0001", "kind": "new_theme", "message": "a", "related_ids": [],
         "created_at": at},
        {"theme_id": "T0003", "kind": "new_theme", "message": "b", "related_ids": [],
         "created_at": at},
        {"theme_id": "T0004", "kind": "retired", "message": "c", "related_ids": [],
         "created_at": at},
        {"theme_id": "T0005", "kind": "split", "message": "d", "related_ids": ["T0020"],
         "created_at": at},
    ]  # fmt: skip
    edits = [
        Edit("E0001", "rename", "T0004", {"label": "x"}, "ann", None, before),  # before: no
        Edit("E0002", "split", "T0003", {"children": []}, "ann", None, after),  # preview: no
        Edit("E0003", "hide", "T0004", {}, "bob", None, after),
        Edit("E0004", "undo", "T0004", {"edit_id": "E0003"}, "bob", None, after),  # undone
        Edit("E0005", "merge", "T0006", {"sources": ["T0020"]}, "ann", None, after),
        Edit("E0006", "rename", "T0001", {"label": "y"}, "ann", None, after),  # a name: no
    ]
    assert [p["message"] for p in unanswered(proposals, edits)] == ["a", "b", "c"]
    edits.append(Edit("E0007", "accept", "T0003", {"preview_id": "E0002"}, "ann", None, after))
    edits.append(Edit("E0008", "rename", "T0004", {"label": "z"}, "ann", None, after))
    assert [p["message"] for p in unanswered(proposals, edits)] == ["a"]
    edits.append(Edit("E0009", "keep", "T0001", {}, "ann", "one problem", after))
    assert unanswered(proposals, edits) == []
    view = curate(_themes(), edits[-1:])  # keeping flags the theme and changes nothing else
    assert view.themes.set_index("theme_id")["kept"].to_dict() == {
        "T0001": True, "T0002": False, "T0003": False, "T0004": False,
    }  # fmt: skip
    assert view.themes["label"].tolist() == _themes()["label"].tolist()


def test_a_proposed_cut_is_routed_as_proposed() -> None:
    """A refit's held part (small, tight) inside a broad theme: with one mean per part, the
    rest's mean sits far from much of the rest and the small part takes it (CFPB T0003: 170 of
    243 for a part of 95). Each part's own KMeans centroids keep the cut, in the preview's sizes
    and in `route` after the split is accepted."""
    rng = np.random.default_rng(0)
    dim = 16
    spread = [np.eye(dim)[i] for i in range(1, 7)]  # the rest: six directions apart
    rest = np.vstack([d + 0.15 * rng.standard_normal((25, dim)) for d in spread])
    carved = np.eye(dim)[0] + 0.6 * np.mean(spread, axis=0) + 0.1 * rng.standard_normal((40, dim))
    X = np.vstack([carved, rest])
    partition = np.repeat([0, 1], [len(carved), len(rest)])
    texts = ["card never arrived"] * len(carved) + ["refund still pending"] * len(rest)
    children, routed = split_children(X, texts, 2, partition=partition)
    assert (routed == partition).mean() >= 0.95
    assert abs(children[0]["size"] - len(carved)) <= 0.05 * len(X)
    assert all(len(c["centroids"]) >= 1 for c in children)
    one_mean = np.argmax(X @ np.stack([X[partition == c].mean(axis=0) for c in (0, 1)]).T, 1)
    assert (one_mean == partition).mean() < (routed == partition).mean()  # the point of it
    # a part the proposal named keeps that name and keywords; no other part takes the name
    named, _ = split_children(
        X, texts, 2, partition=partition, given=[("Card never arrived", ["card", "arrived"])]
    )
    assert named[0]["label"] == "Card never arrived"
    assert named[0]["keywords"] == ["card", "arrived"]
    assert named[1]["label"] != "Card never arrived" and named[1]["label"] == children[1]["label"]

    preview = Edit("E0010", "split", "T0003", {"children": children})
    accept = Edit(
        "E0011", "accept", "T0003", {"preview_id": "E0010", "child_ids": ["T0010", "T0011"]}
    )
    themes = _themes().assign(theme_id=["T0001", "T0002", "T0003", "T0004"])
    view = curate(themes, [preview, accept])
    ids = route(["T0003"] * len(X), X, view)
    assert (ids == np.where(routed == 0, "T0010", "T0011")).all()


# -- on the fitted demo ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def curated(fitted_demo: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A copy of the demo with a rename, a merge and a hide applied through `rca.jobs.curate`."""
    from rca.jobs import curate as jobs
    from rca.queries.repeat_drivers import drivers_payload
    from rca.store import Store
    from rca.store.themes import require_champion, theme_volumes

    settings = copy_home(fitted_demo, tmp_path_factory.mktemp("taxonomy") / "home")
    listing = jobs.taxonomy_listing(settings)
    biggest = [t["theme_id"] for t in sorted(listing["themes"], key=lambda t: -t["contacts"])]
    keep, gone = biggest[:2]
    # the theme hidden is one the drivers page ranks at "latest", so hiding it shows there
    ranked = {d["theme_id"] for d in drivers_payload(settings, period="latest", top=100)["drivers"]}
    hidden = next(t for t in biggest[2:] if t in ranked)
    split, source = [t for t in biggest[2:] if t != hidden][:2]
    with Store(settings.store_path).read() as con:
        version = require_champion(con)
        before = theme_volumes(con, version, EVER[0], EVER[1], EVER[0])
        filed = [r[0] for r in con.execute(
            "SELECT contact_id FROM assignments WHERE model_version = ? AND theme_id = ? "
            "ORDER BY contact_id LIMIT 2", [version, source]).fetchall()]  # fmt: skip
    jobs.apply_edit(settings, "rename", keep, params={"label": "Refund not showing"},
                    actor="ann", reason="clearer")  # fmt: skip
    jobs.apply_edit(settings, "merge", keep, params={"sources": [gone]}, actor="ann")
    jobs.apply_edit(settings, "hide", hidden, actor="bob", reason="small talk")
    moved = jobs.apply_edit(settings, "reassign", hidden, params={"contacts": filed},
                            actor="dan", reason="a greeting, nothing else")  # fmt: skip
    assert moved["changed"] and moved["moved"] == 2 and moved["moved_from"] == {source: 2}
    assert moved["contacts"] == int(before.set_index("theme_id").loc[hidden, "volume"]) + 2
    return {"settings": settings, "keep": keep, "gone": gone, "hidden": hidden,
            "split": split, "source": source, "filed": filed,
            "before": before.set_index("theme_id")}  # fmt: skip


def _held(settings: Settings, contacts: list[str]) -> dict[str, str]:
    """Each contact's curated theme in the champion: what every report counts it under."""
    from rca.store import Store
    from rca.store.themes import require_champion

    with Store(settings.store_path).read() as con:
        version = require_champion(con)
        rows = con.execute(
            "SELECT a.contact_id, coalesce(m.theme_id, a.theme_id) FROM assignments a "
            "LEFT JOIN taxonomy_members m ON m.contact_id = a.contact_id "
            "AND m.model_version = a.model_version WHERE a.model_version = ?",
            [version],
        ).fetchall()
    return {c: t for c, t in rows if c in contacts}


def _volumes(settings: Settings) -> pd.DataFrame:
    from rca.store import Store
    from rca.store.themes import require_champion, theme_volumes

    with Store(settings.store_path).read() as con:
        return theme_volumes(con, require_champion(con), EVER[0], EVER[1], EVER[0])


def test_every_report_reads_the_curated_view(curated: dict) -> None:
    from rca.queries.repeat_drivers import drivers_payload, load_repeat_analysis
    from rca.queries.spike_report import detect_spikes

    settings, keep, gone, hidden = (curated[k] for k in ("settings", "keep", "gone", "hidden"))
    before = curated["before"]
    now = _volumes(settings).set_index("theme_id", drop=False)
    assert now.loc[keep, "label"] == "Refund not showing" and now.loc[keep, "pinned"]
    assert gone not in now.index  # merged: one theme, holding both themes' contacts
    assert now.loc[keep, "volume"] == before.loc[keep, "volume"] + before.loc[gone, "volume"]
    assert now.loc[hidden, "hidden"] and now["volume"].sum() == before["volume"].sum()
    source = curated["source"]  # two contacts filed by hand under the hidden theme
    assert now.loc[source, "volume"] == before.loc[source, "volume"] - 2
    assert now.loc[hidden, "volume"] == before.loc[hidden, "volume"] + 2

    analysis = load_repeat_analysis(settings)
    assert gone not in set(analysis.marked["theme_id"].dropna())
    assert analysis.themes.set_index("theme_id").loc[keep, "label"] == "Refund not showing"
    ranked = drivers_payload(settings, period="latest", top=100, analysis=analysis)
    assert hidden not in {d["theme_id"] for d in ranked["drivers"]}
    assert ranked["totals"]["hidden_themes"] == 1
    report = detect_spikes(settings, "latest")
    assert hidden not in {s["theme_id"] for s in report.spikes}
    assert all(s["label"] == "Refund not showing" for s in report.spikes if s["theme_id"] == keep)


def test_a_split_preview_changes_nothing_until_accepted(curated: dict) -> None:
    from rca.jobs import curate as jobs

    settings, split = curated["settings"], curated["split"]
    before = _volumes(settings)
    preview = jobs.preview_split(settings, split, parts=2, actor="cat")
    assert len(preview["children"]) == 2
    # parts are named as fitted themes are: a phrase, not "Word / Word", and no other's name
    labels = [c["label"] for c in preview["children"]]
    others = {str(n).lower() for n in before.loc[before["theme_id"] != split, "label"]}
    assert len(set(labels)) == 2 and not any(" / " in n for n in labels), labels
    assert not {n.lower() for n in labels} & others, labels
    assert (
        sum(c["size"] for c in preview["children"])
        == before.set_index("theme_id").loc[split, "volume"]
    )
    pd.testing.assert_frame_equal(_volumes(settings), before)  # a preview alone: no change

    accepted = jobs.accept_split(settings, preview["preview_id"], actor="cat")
    children = [t["theme_id"] for t in accepted["themes"]]
    after = _volumes(settings).set_index("theme_id")
    assert split not in after.index and set(children) <= set(after.index)
    assert after.loc[children, "volume"].sum() == before.set_index("theme_id").loc[split, "volume"]
    again = jobs.accept_split(settings, preview["preview_id"])  # idempotent
    assert again["changed"] is False and again["edit"] is None
    history = jobs.taxonomy_history(settings)
    assert [e["action"] for e in history] == [
        "rename", "merge", "hide", "reassign", "split", "accept",
    ]  # fmt: skip
    assert history[0]["by"] == "ann" and history[0]["why"] == "clearer"
    assert history[-1]["new_ids"] == children
    # and in the model's history: the champion's MLflow run carries the last edit
    from rca.jobs.tracking import _mlflow
    from rca.store import Store
    from rca.store.themes import find_model

    with Store(settings.store_path).read() as con:
        run_id = find_model(con).run_id
    tags = _mlflow(settings).MlflowClient().get_run(run_id).data.tags
    assert tags["rca.taxonomy.edits"] == "6"
    assert tags["rca.taxonomy.last_edit"] == f"{history[-1]['edit_id']} accept {split} by cat"


def test_an_undone_merge_gives_both_themes_their_contacts_back(
    fitted_demo: Settings, tmp_path: Path
) -> None:
    from rca.jobs import curate as jobs

    settings = copy_home(fitted_demo, tmp_path / "home")
    before = _volumes(settings).set_index("theme_id")
    keep, gone = before.sort_values("volume").index[-2:]
    merged = jobs.apply_edit(settings, "merge", keep, params={"sources": [gone]}, actor="ann")
    undone = jobs.apply_edit(settings, "undo", "", params={"edit_id": merged["edit"]["edit_id"]},
                             actor="bob", reason="two problems after all")  # fmt: skip
    assert undone["changed"] and undone["edit"]["theme_id"] == keep
    after = _volumes(settings).set_index("theme_id")
    pd.testing.assert_series_equal(after["volume"], before["volume"])
    again = jobs.apply_edit(settings, "undo", "", params={"edit_id": merged["edit"]["edit_id"]})
    assert again["changed"] is False  # undoing twice changes nothing
    history = jobs.taxonomy_history(settings)
    assert history[0]["undone_by"] == history[1]["edit_id"] and history[1]["by"] == "bob"
    cli = run_cli("taxonomy", "undo", "E9999", home=settings.home)
    assert cli.returncode == 1 and "no edit 'E9999'" in cli.stderr and "Traceback" not in cli.stderr


def test_cli_errors_are_one_line_and_json_lists_the_curated_themes(curated: dict) -> None:
    home = curated["settings"].home
    same = run_cli("taxonomy", "merge", curated["keep"], curated["keep"], home=home)
    assert same.returncode == 1 and "Traceback" not in same.stderr
    assert "cannot merge theme" in same.stderr and "with itself" in same.stderr
    listed = run_cli("taxonomy", "list", "--format", "json", home=home)
    payload = json.loads(listed.stdout)
    assert payload["command"] == "taxonomy list" and payload["hidden"] == [curated["hidden"]]
    assert payload["merged"] == {curated["gone"]: curated["keep"]}
    unknown = run_cli("taxonomy", "reassign", "C-nope", curated["filed"][0], "--to",
                      curated["keep"], home=home)  # fmt: skip
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert "no contact C-nope" in unknown.stderr and len(unknown.stderr.splitlines()) == 1
    again = run_cli("taxonomy", "reassign", *curated["filed"], "--to", curated["hidden"],
                    home=home)  # fmt: skip
    assert again.returncode == 0 and "nothing to change" in again.stderr
    assert _held(curated["settings"], curated["filed"]) == dict.fromkeys(
        curated["filed"], curated["hidden"]
    )


def test_names_merges_and_hidden_themes_survive_a_reseeded_refit(
    curated: dict, tmp_path: Path
) -> None:
    from rca.jobs.curate import taxonomy_listing
    from rca.jobs.fit import fit_themes

    home = tmp_path / "refit"
    shutil.copytree(curated["settings"].home, home)
    settings = curated["settings"].model_copy(update={"home": home})
    result = fit_themes(settings, seed=7, promote="auto")
    assert result.promoted and result.checks["id_stability_value"] >= 0.9
    listing = taxonomy_listing(settings)
    assert listing["model_version"] == result.catalog.model_version
    themes = {t["theme_id"]: t for t in listing["themes"]}
    keep, gone, hidden = curated["keep"], curated["gone"], curated["hidden"]
    assert themes[keep]["label"] == "Refund not showing" and themes[keep]["pinned"]
    assert gone not in themes and listing["merged"][gone] == keep
    assert themes[hidden]["hidden"] and hidden in listing["hidden"]
    # contacts filed by hand stay where the person put them, whatever the refit assigned
    assert _held(settings, curated["filed"]) == dict.fromkeys(curated["filed"], hidden)
    assert _volumes(settings).set_index("theme_id").loc[keep, "label"] == "Refund not showing"
    # what the refit did to curated themes is proposed, and stored with the new model
    assert all(p["model_version"] == result.catalog.model_version for p in listing["proposals"])
    assert {"taxonomy_edits", "taxonomy_proposals"} <= set(result.metrics)


def test_the_email_leaves_hidden_themes_out(curated: dict, tmp_path: Path) -> None:
    from rca.jobs.curate import apply_edit
    from rca.report.gather import gather_report

    home = tmp_path / "email"
    shutil.copytree(curated["settings"].home, home)
    settings = curated["settings"].model_copy(update={"home": home, "report_cases": 0})
    now = datetime.now(UTC)
    before = gather_report(settings, "latest", now=now)
    listed = [s["theme_id"] for s in before.spikes_payload["spikes"]]
    listed += [d["theme_id"] for d in before.drivers]
    assert listed, "the demo plants spikes and repeat drivers"
    apply_edit(settings, "hide", listed[0], actor="ann", reason="spam")
    after = gather_report(settings, "latest", now=now)
    assert listed[0] not in {s["theme_id"] for s in after.spikes_payload["spikes"]}
    assert listed[0] not in {d["theme_id"] for d in after.drivers}
    hidden_before = before.spikes_payload["hidden_spikes"]
    was_spike = listed[0] in {s["theme_id"] for s in before.spikes_payload["spikes"]}
    assert after.spikes_payload["hidden_spikes"] == hidden_before + int(was_spike)  # counted


def test_a_theme_created_from_examples_takes_similar_contacts(
    curated: dict, tmp_path: Path
) -> None:
    from rca.errors import NotFoundError
    from rca.jobs.curate import create_theme
    from rca.store import Store

    home = tmp_path / "create"
    shutil.copytree(curated["settings"].home, home)
    settings = curated["settings"].model_copy(update={"home": home})
    with Store(settings.store_path).read() as con:
        examples = [r[0] for r in con.execute(
            "SELECT contact_id FROM assignments WHERE theme_id = ? ORDER BY similarity DESC "
            "LIMIT 3", [curated["hidden"]]).fetchall()]  # fmt: skip
    with pytest.raises(NotFoundError, match="no contact C-missing"):
        create_theme(settings, "Greetings", examples=["C-missing"])
    made = create_theme(settings, "Greetings", examples=examples, threshold=0.6, actor="eve")
    assert made["changed"] and made["contacts"] >= len(examples)
    volumes = _volumes(settings).set_index("theme_id")
    created = made["edit"]["theme_id"]
    assert volumes.loc[created, "label"] == "Greetings" and volumes.loc[created, "pinned"]
    assert volumes.loc[created, "volume"] == made["contacts"]
    assert volumes["volume"].sum() == curated["before"]["volume"].sum()  # moved, not added


def test_the_parent_level_sums_the_visible_themes_alike_in_cli_api_and_spikes(
    curated: dict, tmp_path: Path
) -> None:
    """`--granularity parent` / `?granularity=parent`: a group's contacts are the sum of its
    themes' (merged ones inside, hidden ones in no group), the same in the CLI and the API; a
    theme moved into a group counts there; the theme's note shows beside it everywhere."""
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from rca.api.app import create_app
    from rca.api.auth import hash_key, new_key
    from rca.cli import app, commands  # noqa: F401
    from rca.jobs.curate import apply_edit, taxonomy_listing
    from rca.queries.spike_report import detect_spikes
    from rca.store import Store

    keep, gone, hidden = curated["keep"], curated["gone"], curated["hidden"]
    key = new_key()
    settings = copy_home(
        curated["settings"], tmp_path / "home", api_keys=[f"reader:{hash_key(key)}:pm"]
    )
    other = next(t["theme_id"] for t in taxonomy_listing(settings)["themes"]
                 if t["theme_id"] not in (keep, hidden))  # fmt: skip
    for theme in (keep, other):
        apply_edit(settings, "move", theme, params={"parent_group": "Billing"}, actor="ann")
    note = "Template campaign: 90% of its texts share one wording"
    with Store(settings.store_path).write() as con:
        con.execute("UPDATE themes SET description = ? WHERE theme_id = ?", [note, keep])

    def cli(*args: str) -> dict:
        out = CliRunner().invoke(app, ["themes", "--format", "json", "--top", "1000",
                                       "--home", str(settings.home), *args])  # fmt: skip
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    listing = cli()  # hidden themes are counted, not listed
    fine = {t["theme_id"]: t for t in listing["themes"] if t["theme_id"]}  # not "unassigned"
    parent = cli("--granularity", "parent")
    groups = {g["label"]: g for g in parent["groups"]}
    assert parent["granularity"] == "parent" and fine[keep]["description"] == note
    members = [t for g in groups.values() for t in g["theme_ids"]]
    assert sorted(members) == sorted(fine)
    assert hidden not in members and gone not in members and len(set(members)) == len(members)
    for group in groups.values():
        assert group["volume"] == sum(fine[t]["volume"] for t in group["theme_ids"])
        assert [t["volume"] for t in group["themes"]] == sorted(
            (t["volume"] for t in group["themes"]), reverse=True
        )
    assert set(groups["Billing"]["theme_ids"]) == {keep, other}
    assert parent["hidden_themes"] == listing["hidden_themes"] == [hidden]
    assert parent["hidden_volume"] == listing["hidden_volume"]
    billing = {t["theme_id"]: t for t in groups["Billing"]["themes"]}
    assert billing[keep]["description"] == note

    with TestClient(create_app(settings, background=False)) as client:
        headers = {"X-API-Key": key}
        page = client.get("/v1/themes", params={"granularity": "parent", "limit": 200},
                          headers=headers).json()  # fmt: skip
        assert page["granularity"] == "parent" and page["items"] == []
        assert {g["label"]: (g["volume"], g["spike_status"]) for g in page["groups"]} == {
            name: (g["volume"], g["spike_status"]) for name, g in groups.items()
        }
        assert page["total_groups"] == len(groups)
        listed = client.get("/v1/themes", params={"limit": 200}, headers=headers).json()
        shown = {t["theme_id"]: t for t in listed["items"] if not t["hidden"]}
        assert {t: r["volume"] for t, r in shown.items()} == {
            t: r["volume"] for t, r in fine.items()
        }
        for theme, row in fine.items():  # growth means the same in the CLI and the API
            assert shown[theme]["growth"] == pytest.approx(row["growth"])
        detail = client.get(f"/v1/themes/{keep}", headers=headers).json()
        assert detail["description"] == note
        api_spikes = client.get("/v1/spikes", params={"granularity": "parent"}, headers=headers)
        assert api_spikes.json()["granularity"] == "parent"

    spikes = detect_spikes(settings, "latest", granularity="parent")
    assert spikes.payload()["granularity"] == "parent"
    assert [(s["theme_id"], s["theme_ids"]) for s in api_spikes.json()["spikes"]] == [
        (s["theme_id"], s["theme_ids"]) for s in spikes.spikes
    ]  # the CLI's and the API's parent-level spikes are the same
    for spike in spikes.spikes:
        assert hidden not in spike["theme_ids"] and spike["theme_ids"]

    # taken out of its group, a theme is a group of its own; asking again changes nothing
    out = apply_edit(settings, "move", other, params={"ungroup": True}, actor="ann")
    assert out["changed"] and out["theme"]["parent_group"] is None
    again = apply_edit(settings, "move", other, params={"ungroup": True})
    assert again["changed"] is False
    regrouped = {g["label"]: g for g in cli("--granularity", "parent")["groups"]}
    assert regrouped["Billing"]["theme_ids"] == [keep]
    alone = [g for g in regrouped.values() if g["theme_ids"] == [other]]
    assert len(alone) == 1 and alone[0]["parent_group"] is None
    assert alone[0]["volume"] == fine[other]["volume"]


def test_a_taught_reassign_files_later_contacts_like_the_ones_named(
    curated: dict, tmp_path: Path
) -> None:
    """Filing cases with `teach`: a later week's contacts that say what they said are filed
    under the same theme by `rca assign`, without a refit; one that says what another theme's
    contacts say is not; the CLI says what it learnt and the history shows it."""
    from rca.ingest.pipeline import ingest_paths
    from rca.jobs.assign import assign_contacts
    from rca.store import Store

    settings = copy_home(curated["settings"], tmp_path / "teach")
    source, target = curated["keep"], curated["source"]
    with Store(settings.store_path).read() as con:
        rows = con.execute(
            "SELECT a.contact_id, c.text FROM assignments a JOIN contacts c USING (contact_id) "
            "WHERE a.theme_id = ? ORDER BY a.similarity DESC LIMIT 3", [source]
        ).fetchall()  # fmt: skip
        other_id, other = con.execute(
            "SELECT a.contact_id, c.text FROM assignments a JOIN contacts c USING (contact_id) "
            "WHERE a.theme_id = ? ORDER BY a.similarity DESC LIMIT 1", [curated["split"]]
        ).fetchone()  # fmt: skip
    ids = [r[0] for r in rows]
    dry = run_cli("taxonomy", "reassign", *ids, "--to", target, "--teach", "--dry-run",
                  "--format", "json", home=settings.home)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    preview = json.loads(dry.stdout)
    assert (
        preview["dry_run"]
        and preview["moved"] == 3
        and _held(settings, ids) == dict.fromkeys(ids, source)
    )  # nothing written
    out = run_cli("taxonomy", "reassign", *ids, "--to", target, "--teach", "--by", "ann",
                  home=settings.home)  # fmt: skip
    assert out.returncode == 0, out.stderr
    taught = re.search(r"taught: (\d+) more contacts? like them joined", out.stderr)
    assert taught and int(taught.group(1)) == preview["learnt"], out.stderr
    assert sum(preview["learnt_from"].values()) == preview["learnt"]
    assert _held(settings, ids) == dict.fromkeys(ids, target)
    history = run_cli("taxonomy", "history", home=settings.home).stdout
    assert "and contacts like them (at least 0.50)" in " ".join(history.split())

    later = pd.DataFrame({
        "contact_id": ["L1", "L2", "L3", "L4"],
        "created_at": "2026-12-01T10:00:00Z",
        "text": [rows[0][1], rows[1][1], rows[2][1], other],
    })  # fmt: skip
    later.to_csv(tmp_path / "later.csv", index=False)
    ingest_paths([str(tmp_path / "later.csv")], settings)
    assign_contacts(settings)
    elsewhere = _held(settings, [other_id])[other_id]  # a part of the split theme by now
    assert elsewhere != target
    assert _held(settings, ["L1", "L2", "L3", "L4"]) == {
        "L1": target, "L2": target, "L3": target, "L4": elsewhere
    }  # fmt: skip
    bad = run_cli("taxonomy", "reassign", ids[0], "--to", target, "--threshold", "0.7",
                  home=settings.home)  # fmt: skip
    assert bad.returncode == 1 and "--threshold is for --teach" in bad.stderr
