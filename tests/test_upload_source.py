"""The history's "why" for a table chosen as a file on the Taxonomy page: the browser drops
the file after a preview, so the page carries its name and a digest of its rows and still says
where the applied rows came from, or that someone changed them in the box since."""

from rca.api.web.taxonomy_pages import _file_mark, _source

ROWS = "theme_id,label\nT0001,Refund late\n"


def test_the_previewed_file_is_named_when_its_rows_come_back_unchanged() -> None:
    mark = _file_mark("themes.xlsx", ROWS)
    assert _source(mark, ROWS) == "from themes.xlsx"
    assert _source(mark, ROWS.replace("\n", "\r\n")) == "from themes.xlsx"  # a textarea's CRLF


def test_rows_changed_in_the_box_or_pasted_are_said_so() -> None:
    mark = _file_mark("themes.xlsx", ROWS)
    assert _source(mark, ROWS + "T0002,Card declined\n") == "from themes.xlsx, edited on the page"
    assert _source("", ROWS) == "pasted"


def test_only_the_file_name_is_kept_never_a_client_path() -> None:
    assert _source(_file_mark("C:\\Users\\dana\\themes.xlsx", ROWS), ROWS) == "from themes.xlsx"
    assert _source(_file_mark("/home/dana/cases.csv", ROWS), ROWS) == "from cases.csv"
