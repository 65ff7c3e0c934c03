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


def test_the_pages_count_through_the_same_rule() -> None:
    """The dashboard's templates say counts with the `counted` filter ("1 contact in 2026-W47"),
    as the CLI and the repeat sentences do."""
    from rca.api.web.routes import templates

    page = templates.env.from_string(
        "{{ n | counted('contact') }}; {{ m | counted('hidden theme') }}"
    )
    assert page.render(n=1, m=3) == "1 contact; 3 hidden themes"
    for name in ("week.html", "themes.html", "escalations.html", "theme.html"):
        source = templates.env.loader.get_source(templates.env, name)[0]
        assert "}} contacts" not in source, name
