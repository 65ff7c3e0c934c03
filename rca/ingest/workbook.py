"""Tables people keep in a spreadsheet, read as saved: an Excel workbook (`.xlsx`, `.xlsm`).

Reason codes, a reviewed theme sheet and a theme's corrected cases are written by people in
Excel, whose default "Save" is a workbook, not CSV; asking them to "Save as CSV" first loses
the ones who do not know the difference. The first sheet is the table (a header row, then a
row each), every cell as text, as `rca.jobs.import_codes.read_table` reads CSV.

openpyxl reads it (through pandas): the library pandas itself names for `.xlsx`, pure Python,
maintained, and it reads the cached value of a formula rather than the formula. The legacy
binary `.xls` and OpenDocument `.ods` are refused with a message saying how to save instead:
reading them would take two more libraries for files Excel and LibreOffice both save as
`.xlsx`.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from rca.errors import InvalidInputError

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the legacy .xls (and .doc) container
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}


def is_workbook(data: bytes, name: str = "") -> bool:
    """Whether these bytes are a spreadsheet file rather than text: a zip (xlsx, ods) or the
    legacy OLE container (xls), whatever the file is called (a download renamed `.csv` is
    still a workbook)."""
    return data.startswith((ZIP_MAGIC, OLE_MAGIC)) or Path(name).suffix.lower() in WORKBOOK_SUFFIXES


def read_workbook(data: bytes, name: str = "the file") -> pd.DataFrame:
    """The first sheet of an `.xlsx` workbook as a table of text: the first row is the
    header, empty cells are "", a whole number stays whole ("7261306", not "7261306.0").
    Anything else that is not text is an `InvalidInputError` saying how to save it."""
    if data.startswith(OLE_MAGIC):
        raise InvalidInputError(
            f"{name} is an old Excel .xls workbook: save it as .xlsx or as CSV (UTF-8) and try "
            "again"
        )
    if b"opendocument.spreadsheet" in data[:100]:  # the ODF zip's first entry is its mimetype
        raise InvalidInputError(
            f"{name} is an OpenDocument spreadsheet (.ods): save it as .xlsx or as CSV and try "
            "again"
        )
    try:
        frame = pd.read_excel(
            io.BytesIO(data), sheet_name=0, dtype=str, engine="openpyxl", keep_default_na=False
        )
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a broken file
        raise InvalidInputError(f"{name} is not a readable .xlsx workbook ({exc})") from exc
    frame = frame.fillna("")
    frame.columns = [_header(c) for c in frame.columns]
    return frame.loc[~(frame == "").all(axis=1)].reset_index(drop=True)  # no blank rows


def _header(column: object) -> str:
    """A header cell as text: pandas names an empty one "Unnamed: 3"; a spreadsheet shows it
    as blank."""
    text = str(column)
    return "" if text.startswith("Unnamed: ") else text.strip()
