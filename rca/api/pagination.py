"""Opaque cursors for the themes listing that stay correct while data changes.

A cursor names the snapshot its first page came from, the query (period, sort) and the
position, plus the last row's sort key. While that snapshot is still held (the last few are),
the next page is cut from it, so pages never skip or repeat a theme even if an ingest lands in
between. After it is gone, the page continues after the last key in the current data (keyset
pagination): no repeats, and only themes whose figures moved across the cut can be missed.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass

from rca.errors import InvalidInputError


@dataclass(frozen=True)
class Cursor:
    snapshot: str
    period: str
    sort: str
    offset: int
    last_value: float
    last_id: str


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps(asdict(cursor), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        padded = text + "=" * (-len(text) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        cursor = Cursor(**data)
        if cursor.offset < 0 or not isinstance(cursor.last_id, str):
            raise ValueError("bad cursor")
        float(cursor.last_value)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInputError("cursor is not one this service issued") from exc
    return cursor
