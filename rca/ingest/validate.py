"""Row-level validation of a canonical frame: typed values out, reasons for every bad row.

Pure: the clock and the time zone come in as arguments. A row with several problems gets all
its reasons joined by "; ", so one look at the quarantine tells the whole story. Over-long text
is not a rejection: the row is kept, truncated and flagged, because the contact still happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from rca.ingest.mapping import LATER_FIELDS
from rca.ingest.read import LINE

TRUE_STRINGS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_STRINGS = frozenset({"false", "f", "no", "n", "0", "0.0"})
OFFSET_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
#: ISO 8601 as written by machines (and by rca for an Excel date cell): a date, or a date and
#: time with an optional zone. It cannot be misread, so it is read whatever `format` says.
ISO_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
EPOCH_SECONDS = re.compile(r"^\d{9,10}(\.\d+)?$")
EPOCH_MILLIS = re.compile(r"^\d{12,13}$")
#: An Excel serial date as a cell formatted "General" shows it: days since 1899-12-30, the
#: fraction the time of day. Five digits cover 1927-2173; read only with ``format = "excel"``
#: (a bare number is never guessed to be a date), and named in the reason when it is not.
EXCEL_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
EXCEL_FORMAT = "excel"
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Each Excel date system's day 0. A workbook made by Mac Excel before 2011 (or with "Use 1904
#: date system" ticked) counts from 1904-01-01: read with "excel" its serials would land four
#: years and a day early, so it has its own format.
EXCEL_EPOCHS = {EXCEL_FORMAT: EXCEL_EPOCH, "excel1904": pd.Timestamp("1904-01-01")}
#: 01/02/2026, 1.2.26, 13-02-2026 10:00: day and month in an order only the file can tell.
NUMERIC_DATE = r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?=$|[ T])(.*)$"
DAY_FIRST, MONTH_FIRST = "day first", "month first"
#: Zones whose locale writes the month first (the United States, the Philippines); any other
#: zone reads an undecided file day first. A mapping's `options.date_order` overrides both.
MONTH_FIRST_ZONE_PREFIXES = (
    "US/",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "America/Anchorage",
    "America/Detroit",
    "America/Boise",
    "America/Indiana/",
    "America/Kentucky/",
    "Pacific/Honolulu",
    "Asia/Manila",
)


@dataclass(frozen=True)
class Rules:
    tz: ZoneInfo
    now: datetime  # timezone-aware
    max_text_chars: int = 10_000
    min_year: int = 2000
    max_future_days: int = 1
    date_order: str | None = None  # DAY_FIRST | MONTH_FIRST from the mapping; None = decide


@dataclass(frozen=True)
class DateOrder:
    """How a file's numeric dates (01/02/2026) are read: decided once, for every row."""

    order: str  # DAY_FIRST | MONTH_FIRST
    source: str  # "its values" | "the mapping" | "RCA_TIMEZONE <zone>"
    day_first_only: int  # values valid only day first (13/02/2026)
    month_first_only: int  # values valid only month first (02/13/2026)

    @property
    def contradictory(self) -> bool:
        return self.day_first_only > 0 and self.month_first_only > 0

    def note(self) -> str:
        if self.contradictory:
            return (
                f"file contradicts itself: {self.day_first_only} dates are valid only day first "
                f"and {self.month_first_only} only month first; read {self.order} (the "
                "majority), the others quarantined"
            )
        return f"dates like 01/02/2026 read {self.order} (from {self.source})"


def zone_date_order(tz: ZoneInfo) -> str:
    return MONTH_FIRST if str(tz.key).startswith(MONTH_FIRST_ZONE_PREFIXES) else DAY_FIRST


@dataclass(frozen=True)
class DateEvidence:
    """What a file's numeric dates say about their order; adds up over a file's chunks."""

    found: bool = False  # any numeric date at all
    day_first_only: int = 0
    month_first_only: int = 0

    def __add__(self, other: DateEvidence) -> DateEvidence:
        return DateEvidence(
            self.found or other.found,
            self.day_first_only + other.day_first_only,
            self.month_first_only + other.month_first_only,
        )


def date_evidence(text: pd.Series) -> DateEvidence:
    """How many numeric dates are valid only day first, or only month first."""
    parts = text.str.extract(NUMERIC_DATE)
    found = parts[0].notna()
    if not found.any():
        return DateEvidence()
    first = parts.loc[found, 0].astype(int)
    second = parts.loc[found, 2].astype(int)
    day_only = int(((first > 12) & (second <= 12)).sum())
    month_only = int(((second > 12) & (first <= 12)).sum())
    return DateEvidence(True, day_only, month_only)


def order_from_evidence(evidence: DateEvidence, rules: Rules) -> DateOrder | None:
    """One order for the whole file: from values that disambiguate it, else the mapping's
    option, else the zone's locale. None when the file has no numeric dates at all."""
    if not evidence.found:
        return None
    day_only, month_only = evidence.day_first_only, evidence.month_first_only
    if rules.date_order is not None:
        return DateOrder(rules.date_order, "the mapping", day_only, month_only)
    if day_only or month_only:
        order = DAY_FIRST if day_only >= month_only else MONTH_FIRST
        return DateOrder(order, "its values", day_only, month_only)
    zone = zone_date_order(rules.tz)
    return DateOrder(zone, f"RCA_TIMEZONE {rules.tz.key}", 0, 0)


def decide_date_order(text: pd.Series, rules: Rules) -> DateOrder | None:
    """The order of a file whose dates are all in `text`."""
    return order_from_evidence(date_evidence(text), rules)


def against_order(text: pd.Series, order: str) -> pd.Series:
    """Numeric dates valid only in the other order (a file that contradicts itself)."""
    parts = text.str.extract(NUMERIC_DATE)
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[2], errors="coerce")
    day = first if order == DAY_FIRST else second
    month = second if order == DAY_FIRST else first
    return ((month > 12) & (day <= 12)).fillna(False).astype(bool)


def to_iso_order(text: pd.Series, order: str) -> pd.Series:
    """Numeric dates rewritten year-month-day, so parsing never guesses per value."""
    parts = text.str.extract(NUMERIC_DATE)
    found = parts[0].notna()
    if not found.any():
        return text
    day, month = (parts[0], parts[2]) if order == DAY_FIRST else (parts[2], parts[0])
    year = parts[3].where(parts[3].str.len() == 4, "20" + parts[3])
    iso = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + parts[4].fillna("")
    return text.where(~found, iso)


@dataclass
class Validated:
    valid: pd.DataFrame  # typed columns; created_at is UTC
    rejects: pd.DataFrame  # LINE, reason
    naive_timestamps: int  # how many were read in the configured zone
    truncated: int
    date_order: DateOrder | None = None
    #: valid rows whose created_at is a date with no time of day ("2023-05-09", "05/09/23")
    dates_without_time: int = 0


def excel_serial(text: pd.Series, epoch: pd.Timestamp = EXCEL_EPOCH) -> pd.Series:
    """Naive local timestamps of Excel serial dates counted from ``epoch`` (NaT where ``text``
    is not one), to the second: Excel stores 10:20 as 0.430555..., which floating point leaves
    a hair short."""
    serial = text.where(text.str.match(EXCEL_SERIAL))
    days = pd.to_numeric(serial, errors="coerce")
    seconds = (days * 86_400).round()
    return epoch + pd.to_timedelta(seconds, unit="s")


def _serial_hint(text: pd.Series) -> pd.Series:
    """What an unparseable created_at that is an Excel serial date would read as, and how to
    say so ("" for any other value): the date column of a sheet formatted "General"."""
    read = excel_serial(text)
    shown = read.dt.strftime("%Y-%m-%d %H:%M").str.replace(" 00:00", "", regex=False)
    hint = " (an Excel serial date? it reads " + shown + ': set format = "excel" on created_at)'
    return hint.where(read.notna(), "")


def _parse_timestamps(raw: pd.Series, fmt: str | None, tz: ZoneInfo) -> tuple[pd.Series, int]:
    """UTC timestamps (NaT where unparseable) and the count of naive values localised to tz."""
    text = raw.astype(str).str.strip()
    result = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    if fmt in EXCEL_EPOCHS:
        serial = excel_serial(text, EXCEL_EPOCHS[fmt])
        found = serial.notna()
        if found.any():
            result[found] = (
                serial[found]
                .dt.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
                .dt.tz_convert("UTC")
            )
        rest = ~found & (text != "")
        if rest.any():  # the same column as date cells elsewhere, or an ISO text
            result[rest] = _parse_timestamps(text[rest], None, tz)[0]
        return result, int(found.sum())
    epoch_s = text.str.match(EPOCH_SECONDS)
    epoch_ms = text.str.match(EPOCH_MILLIS)
    if epoch_s.any():
        result[epoch_s] = pd.to_datetime(text[epoch_s].astype(float), unit="s", utc=True)
    if epoch_ms.any():
        result[epoch_ms] = pd.to_datetime(text[epoch_ms].astype("int64"), unit="ms", utc=True)
    # A timestamp has digits: pandas reads "now", "today" or "yesterday" as the clock's time,
    # which would change on every re-ingest (and date contacts by when they were loaded).
    rest = ~(epoch_s | epoch_ms) & (text != "") & text.str.contains(r"\d")
    aware = rest & text.str.contains(OFFSET_SUFFIX)
    naive = rest & ~aware
    if aware.any():
        result[aware] = pd.to_datetime(
            text[aware], format=fmt or "ISO8601", utc=True, errors="coerce"
        )
    if naive.any():
        parsed = pd.to_datetime(text[naive], format=fmt or "mixed", errors="coerce")
        if parsed.dt.tz is None:
            # DST edge cases: a non-existent local time moves forward, an ambiguous one is
            # read as standard time; both are rare in exports and better than rejecting.
            parsed = parsed.dt.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
        result[naive] = parsed.dt.tz_convert("UTC")
    if fmt:
        # an export's own format does not cover an ISO value: an Excel workbook's date cells
        # arrive as "2023-01-05" while the same table saved as CSV says "01/05/23"
        iso = rest & result.isna() & text.str.match(ISO_TIMESTAMP)
        if iso.any():
            result[iso] = _parse_timestamps(text[iso], None, tz)[0]
    return result, int(result[naive].notna().sum())  # read, not merely tried


def _parse_bool(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    lowered = raw.astype(str).str.strip().str.lower()
    value = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    value[lowered.isin(TRUE_STRINGS)] = True
    value[lowered.isin(FALSE_STRINGS)] = False
    bad = (lowered != "") & value.isna()
    return value, bad


INBOUND_VALUES = frozenset({"inbound", "in", "customer", "received", "true", "1", "yes", "y"})
OUTBOUND_VALUES = frozenset(
    {"outbound", "out", "agent", "company", "brand", "sent", "false", "0", "no", "n"}
)


def _parse_direction(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """True for the customer's messages (and where no direction is given), False for the
    company's; anything else is bad. `true`/`false` read as an export's `inbound` flag."""
    text = raw.astype(str).str.strip().str.lower()
    outbound = text.isin(OUTBOUND_VALUES)
    bad = ~(text.isin(INBOUND_VALUES) | outbound | (text == "") | (text == "nan"))
    return ~outbound, bad


def _parse_number(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = raw.astype(str).str.strip()
    value = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = (text != "") & (value.isna() | ~np.isfinite(value.fillna(0)))
    return value.where(~bad), bad


def validate(
    frame: pd.DataFrame,
    formats: dict[str, str],
    rules: Rules,
    *,
    file_dates: DateEvidence | None = None,
    earlier: pd.Series | None = None,
) -> Validated:
    """Split a canonical frame into typed valid rows and (line, reason) rejects.

    A chunk of a larger file passes what only the whole file knows: `file_dates`, the date
    evidence of all its rows (the order is the file's, not the chunk's), and `earlier`, the
    first line of each of its contact ids that an earlier chunk already held.
    """
    reasons: dict[int, list[str]] = {}

    def flag(mask: pd.Series, reason: str | pd.Series) -> None:
        for idx in mask[mask].index:
            text = reason if isinstance(reason, str) else str(reason[idx])
            reasons.setdefault(idx, []).append(text)

    contact_id = frame["contact_id"].astype(str).str.strip()
    flag(contact_id == "", "missing contact_id")
    first_line = frame[LINE].groupby(contact_id).transform("first")
    dup = contact_id.duplicated(keep="first") & (contact_id != "")
    if earlier is not None and len(earlier):
        before = contact_id.map(earlier)
        seen = before.notna() & (contact_id != "")
        first_line = first_line.where(~seen, before.fillna(0).astype("int64"))
        dup = dup | seen
    flag(dup, "duplicate contact_id: first at line " + first_line.astype(str))

    text = frame["text"].astype(str).str.strip()
    flag(text == "", "empty text")
    too_long = text.str.len() > rules.max_text_chars
    text = text.where(~too_long, text.str.slice(0, rules.max_text_chars))

    raw_ts = frame["created_at"].astype(str).str.strip()
    fmt = formats.get("created_at")
    date_order = None
    if not fmt:
        evidence = date_evidence(raw_ts) if file_dates is None else file_dates
        date_order = order_from_evidence(evidence, rules)
    ordered = to_iso_order(raw_ts, date_order.order) if date_order else raw_ts
    created, naive_count = _parse_timestamps(ordered, fmt, rules.tz)
    flag(raw_ts == "", "missing created_at")
    contradicts = (
        against_order(raw_ts, date_order.order)
        if date_order
        else pd.Series(False, index=raw_ts.index)
    )
    if date_order:
        flag(
            contradicts,
            f"created_at contradicts the file's date order ({date_order.order}): "
            + raw_ts.str.slice(0, 40),
        )
    flag(
        (raw_ts != "") & created.isna() & ~contradicts,
        "unparseable created_at: " + raw_ts.str.slice(0, 40) + _serial_hint(raw_ts),
    )
    earliest = pd.Timestamp(year=rules.min_year, month=1, day=1, tz="UTC")
    latest = pd.Timestamp(rules.now).tz_convert("UTC") + pd.Timedelta(days=rules.max_future_days)
    impossible = created.notna() & ((created < earliest) | (created > latest))
    flag(impossible, "impossible created_at: " + created.astype(str))

    escalation, bad_bool = _parse_bool(frame["is_escalation"])
    flag(bad_bool, "bad is_escalation: not a boolean: " + frame["is_escalation"].astype(str))
    handle, bad_handle = _parse_number(frame["handle_time_s"])
    flag(bad_handle, "bad handle_time_s: not a number: " + frame["handle_time_s"].astype(str))
    negative = handle < 0
    flag(negative.fillna(False), "bad handle_time_s: negative")
    inbound, bad_direction = _parse_direction(frame["direction"])
    flag(
        bad_direction,
        "bad direction: not inbound or outbound: " + frame["direction"].astype(str).str[:40],
    )
    csat, bad_csat = _parse_number(frame["csat"])
    flag(bad_csat, "bad csat: not a number: " + frame["csat"].astype(str))

    def optional_str(name: str) -> pd.Series:
        values = frame[name].astype(str).str.strip()
        return values.where(values != "", None)

    typed = pd.DataFrame(
        {
            LINE: frame[LINE],
            "contact_id": contact_id,
            "created_at": created,
            "text": text,
            "text_truncated": too_long,
            "customer_id": optional_str("customer_id"),
            "channel": optional_str("channel").str.lower(),
            "is_escalation": escalation,
            "handle_time_s": handle.where(~negative.fillna(False)),
            "resolution": optional_str("resolution"),
            "csat": csat,
            **{name: optional_str(name) for name in LATER_FIELDS},
            "inbound": inbound,
        },
        index=frame.index,
    )
    for column in frame.columns:
        if column.startswith("dim:"):
            typed[column] = optional_str(column)
    bad_index = pd.Index(sorted(reasons))
    rejects = pd.DataFrame(
        {
            LINE: frame.loc[bad_index, LINE].to_numpy(),
            "reason": ["; ".join(reasons[i]) for i in bad_index],
        },
        index=bad_index,
    )
    valid = typed.drop(index=bad_index)
    # no clock written: a date-only export (CFPB's "Date received"); epoch numbers have one
    no_clock = ~raw_ts.str.contains(r"\d:\d") & ~raw_ts.str.match(EPOCH_SECONDS)
    no_clock &= ~raw_ts.str.match(EPOCH_MILLIS)
    if fmt in EXCEL_EPOCHS:  # a serial's fraction is its time of day: 45055 is a date only
        no_clock &= ~raw_ts.str.match(r"^\d{5}\.\d+$")
    return Validated(
        valid=valid,
        rejects=rejects,
        naive_timestamps=naive_count,
        truncated=int(too_long[valid.index].sum()),
        date_order=date_order,
        dates_without_time=int(no_clock[valid.index].sum()),
    )
