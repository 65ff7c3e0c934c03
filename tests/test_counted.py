"""Counts said the same way on every surface ("1 edit", never "1 edits")."""

from rca.text.counted import counted


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "edit") == "1 edit"
    assert [counted(n, "contact") for n in (0, 2, 1000)] == ["0 contacts", "2 contacts",
                                                              "1000 contacts"]  # fmt: skip
    assert (
        counted(3, "reply", "replies") == "3 replies"
        and counted(1, "reply", "replies") == "1 reply"
    )
