"""Spreadsheets read as saved: Excel (`.xlsx`, `.xlsm`, the legacy `.xls`) and OpenDocument
(`.ods`), first sheet.

Two kinds of table arrive this way. Contact exports: help desks and BI tools often export only
"to Excel", and a person who opens a CSV export in Excel saves it back as a workbook
(`rca.ingest.read` reads them row by row through `sheet_rows`). And tables people write: reason
codes, a reviewed theme sheet, a theme's corrected cases (`read_workbook`), where Excel's
default "Save" is a workbook, not CSV, and asking for "Save as CSV" loses the ones who do not
know the difference.

calamine reads every one (python-calamine, the Rust reader pandas offers as
`engine="calamine"`, maintained, MIT): 10x faster than openpyxl's read-only stream on 50,000
rows (0.7 s against 6.7-9.3 s here; openpyxl builds a rich-text object for every inline-string
cell), the cached value of a formula rather than the formula, a date-formatted cell as a date,
and the legacy formats too, so no one is told to re-save a file first.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from rca.errors import InvalidInputError

ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, .xlsm and .ods are zip files
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the legacy .xls container
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}


def is_workbook(data: bytes, name: str = "") -> bool:
    """Whether these bytes are a spreadsheet file rather than text: a zip (xlsx, ods) or the
    legacy OLE container (xls), whatever the file is called (a download renamed `.csv` is
    still a workbook)."""
    return data.startswith((ZIP_MAGIC, OLE_MAGIC)) or Path(name).suffix.lower() in WORKBOOK_SUFFIXES


def read_workbook(data: bytes, name: str = "the file", needs: Collection[str] = ()) -> pd.DataFrame:
    """A sheet as a table of text: the first whose header has every column in ``needs`` (case
    and edge spaces ignored: a workbook whose first sheet is a summary or notes), else the first.
    Its first non-blank row is the header, blank rows are dropped, empty cells are "", cells
    read as `sheet_cell` shows them ("7261306", not "7261306.0"). A file no reader can open,
    or a workbook of several sheets none of which has ``needs``, is an `InvalidInputError`
    naming it (one sheet is returned as it is: the caller names what it lacks)."""
    wanted = {_plain(n) for n in needs}
    _, names, rows = sheet_rows(io.BytesIO(data), name)  # the first sheet
    first = _table(rows)
    if not wanted or wanted <= {_plain(c) for c in first.columns} or len(names) < 2:
        return first
    for index in range(2, len(names) + 1):
        table = _table(sheet_rows(io.BytesIO(data), name, index)[2])
        if wanted <= {_plain(c) for c in table.columns}:
            return table
    raise InvalidInputError(
        f"{name}: no sheet has the columns {sorted(needs)}; its sheets: {names}"
    )


def _plain(column: object) -> str:
    return str(column).strip().casefold()  # as the tables' readers match (`header_map`)


def _table(rows: Iterator[tuple[int, list[str], set[int]]]) -> pd.DataFrame:
    """A sheet's rows as a table of text under its first non-blank row."""
    header: list[str] | None = None
    lead = 0
    records: list[list[str]] = []
    for _, cells, _ in rows:
        if not cells:
            continue
        if header is None:
            lead = next((i for i, c in enumerate(cells) if c.strip()), 0)  # a table at B3
            header = [c.strip() for c in cells[lead:]]
            continue
        cells = cells[lead:]
        records.append([cells[i] if i < len(cells) else "" for i in range(len(header))])
    return pd.DataFrame(records, columns=header or [], dtype=str)


def sheet_cell(value: object) -> str:
    """A cell as the text the sheet shows, in the forms ingest parses.

    calamine gives a date-formatted cell as a date: "2023-01-05" (Excel stores a date as a
    midnight timestamp; written with its time it would read as a contact at 00:00, and
    date-only exports are told apart by their text); a date-time is "2023-01-05T13:02:00". A
    whole number stays whole ("7261306", not "7261306.0": Excel holds every number as a
    float); TRUE/FALSE are "true"/"false" as in JSON exports; an error cell keeps its text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def sheet_rows(
    handle: BinaryIO, path: str, sheet: str | int | None = None
) -> tuple[str, list[str], Iterator[tuple[int, list[str], set[int]]]]:
    """A sheet's name (``sheet``: a name or 1-based position; None: the first), every sheet's
    name, and the sheet's rows as (sheet row number, cells as text, indices of boolean cells);
    blank rows are yielded too (as empty lists), so row numbers and column positions are the
    ones Excel shows.

    calamine holds the sheet's cells in memory, which Excel's limit of 1,048,576 rows bounds.
    """
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(handle)
        names = [str(n) for n in book.sheet_names]
    except Exception as exc:  # noqa: BLE001 - calamine raises its own kinds on a broken file
        raise InvalidInputError(
            f"{path} is not a readable spreadsheet (.xlsx, .xls or .ods): {exc}"
        ) from exc
    index = _sheet_index(sheet, names, path)
    try:
        chosen = book.get_sheet_by_index(index)
    except Exception as exc:  # noqa: BLE001 - a chart sheet or a broken part
        raise InvalidInputError(f"{path}: sheet {names[index]!r} is unreadable: {exc}") from exc
    name = names[index]
    left = chosen.start[1] if chosen.start else 0  # rows start at the sheet's row 1, columns not

    def rows() -> Iterator[tuple[int, list[str], set[int]]]:
        try:
            for number, row in enumerate(chosen.iter_rows(), start=1):
                cells = [""] * left + [sheet_cell(v) for v in row]
                flags = {i for i, v in enumerate(row, start=left) if isinstance(v, bool)}
                while cells and not cells[-1]:
                    cells.pop()
                yield number, cells, flags
        except Exception as exc:  # noqa: BLE001 - a corrupt sheet part fails while reading
            raise InvalidInputError(f"{path}: unreadable sheet {name!r} ({exc})") from exc

    return name, names, rows()


def _sheet_index(sheet: str | int | None, names: list[str], path: str) -> int:
    """The position of the sheet asked for; an unknown one names the sheets there are."""
    if not names:
        raise InvalidInputError(f"{path}: the workbook has no sheet")
    if sheet is None:
        return 0
    if isinstance(sheet, int):
        if 1 <= sheet <= len(names):
            return sheet - 1
    elif sheet in names:
        return names.index(sheet)
    elif (folded := [n.casefold() for n in names]).count(sheet.casefold()) == 1:
        return folded.index(sheet.casefold())  # "data" for "Data"
    raise InvalidInputError(f"{path}: no sheet {sheet!r}; its sheets: {names}")
