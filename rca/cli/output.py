"""Printing results as a table for people, or JSON / CSV for scripts.

JSON output is a contract (see README "JSON output"): every command prints one object with a
`command` key, ISO 8601 timestamps, and snake_case keys that only ever gain new members.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Rich assumes 80 columns when stdout is not a terminal; logs and CI captures read better wider.
PIPED_WIDTH = 160
#: C0 and C1 control characters and DEL (ESC starts terminal escape sequences: clear the
#: screen, set the window title, hyperlinks); tab and newline become spaces.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _plain(value: Any) -> Any:
    """JSON-safe scalars: timestamps to ISO strings, numpy to Python, NaN to null."""
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def to_json(payload: dict[str, Any]) -> str:
    return json.dumps(_plain(payload), ensure_ascii=False, indent=2)


def emit(
    payload: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    fmt: Format,
    *,
    title: str = "",
    columns: Sequence[str] | None = None,
) -> None:
    """Print `payload` as JSON, or `rows` as CSV or a table (with `title` above it)."""
    if fmt is Format.json:
        sys.stdout.write(to_json(payload) + "\n")
        return
    columns = list(columns or (rows[0].keys() if rows else []))
    if fmt is Format.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(row.get(k)) for k in columns})
        return
    table = Table(title=displayable(title) if title else None, show_lines=False)
    for column in columns:
        table.add_column(displayable(column))
    for row in rows:
        table.add_row(*(displayable(_cell(row.get(c))) for c in columns))
    Console(soft_wrap=False, width=None if sys.stdout.isatty() else PIPED_WIDTH).print(table)


def _cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _csv_cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: a text value that starts like a formula (a theme
    named from a customer's "=HYPERLINK(...)", a rejected row's raw text) gets the apostrophe
    OWASP advises against CSV injection, as the dashboard's downloads do; rca's own readers of
    tables take it off again (`rca.cluster.reason_codes.cell_text`). Numbers stay numbers."""
    from rca.repeats.examples import spreadsheet_safe

    text = _cell(value)
    return spreadsheet_safe(text) if isinstance(_plain(value), str | list) else text


def displayable(text: str) -> Text:
    """Customer text made inert for a terminal: a `Text` is never parsed as Rich markup (a
    message holding `[/]` or `[link=…]` prints as written, cannot crash the table or add a
    hyperlink), and control characters are dropped (no escape sequences reach the terminal:
    clearing the screen, setting the window title). Every table cell goes through here."""
    return Text(printable(text))


def printable(text: str) -> str:
    """`text` without control characters (tab and line breaks become spaces): what any line
    of customer-derived text printed outside a table goes through."""
    return CONTROL.sub(lambda m: " " if m.group() in "\t\n\r" else "", text)
