"""A moment as people read it, the same on every surface: "2026-12-04 16:45 GMT".

Timestamps printed as stored read "2026-12-04T16:45:51.247409+00:00": microseconds no reader
needs, and a UTC offset in a product that otherwise speaks its configured zone (a date-only
export read in Europe/London showed its last day, 24 August, as "2023-08-23T23:00:00+00:00").
Machine outputs (JSON, CSV) keep ISO 8601 in UTC; this is for tables and pages.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any


def moment_text(value: Any, tz: tzinfo | None = None, *, date_only: bool = False) -> str:
    """``value`` (a datetime or ISO text; naive means UTC, as the store keeps it) in ``tz``, to
    the minute with the zone's name, or its local date alone for a date-only source. Text that
    is no timestamp comes back as it is; None and "" as ""."""
    if value is None or value == "" or _missing(value):
        return ""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(moment, datetime):
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if tz is not None:
        moment = moment.astimezone(tz)
    if date_only:
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def _missing(value: Any) -> bool:
    """NaT and NaN: a frame's missing moment is an empty cell, not "NaT"."""
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):
        return False
