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
import math

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from rca.errors import InvalidInputError


class Cursor(BaseModel):
    """Strict types: a forged cursor (a float or bool offset, a string key, extra fields) is
    refused as a 400 rather than reaching the slicing code as a wrong type (a 500)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    snapshot: str
    period: str
    sort: str
    offset: int
    last_value: float
    last_id: str

    @field_validator("offset")
    @classmethod
    def _offset(cls, value: int) -> int:
        if value < 0 or value > 2**31:
            raise ValueError("offset out of range")
        return value

    @field_validator("last_value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("last_value must be finite")
        return value


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps(cursor.model_dump(), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        padded = text + "=" * (-len(text) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(data, dict):
            raise ValueError("cursor is not an object")
        if isinstance(data.get("last_value"), int) and not isinstance(data["last_value"], bool):
            data["last_value"] = float(data["last_value"])  # JSON writes 3.0 as 3 elsewhere
        return Cursor.model_validate(data)
    except (ValueError, TypeError, ValidationError, binascii.Error, UnicodeError) as exc:
        raise InvalidInputError("cursor is not one this service issued") from exc
