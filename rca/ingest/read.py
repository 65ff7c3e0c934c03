"""Reading export files into a raw table of strings, one row per source record.

This is the I/O edge of ingest: it knows file formats, encodings and delimiters, and nothing
about what the columns mean. Every record keeps the line (CSV, JSON Lines) or row number
(Parquet) where it started, so a quarantined row can be found in the source. Records that
cannot even be split into fields are returned as rejects, never dropped.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rca.errors import RcaError

LINE = "_line"
SNIFF_BYTES = 64 * 1024
CSV_DELIMITERS = ",;\t|"
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUPPORTED = CSV_SUFFIXES | JSONL_SUFFIXES | PARQUET_SUFFIXES


@dataclass
class RawTable:
    """The strings of one file, plus what was learned reading it."""

    path: Path
    sha256: str
    encoding: str
    frame: pd.DataFrame  # object columns of str, plus LINE
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, raw, reason)
    notes: list[str] = field(default_factory=list)
    #: column -> {line: "object" | "list" | "boolean"} where a JSON/Parquet value was not a
    #: plain string or number: its text form is no contact text and no category value
    typed: dict[str, dict[int, str]] = field(default_factory=dict)


def value_kind(value: object) -> str | None:
    """ "object", "list" or "boolean" for structured values; None for strings and numbers."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple) or (hasattr(value, "ndim") and getattr(value, "ndim", 0)):
        return "list"
    if isinstance(value, bool | np.bool_):
        return "boolean"
    return None


def expand_paths(specs: list[str]) -> list[Path]:
    """Files named directly, every supported file in a folder, or the matches of a glob."""
    files: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED)
            if not found:
                raise RcaError(f"{spec}: folder holds no CSV, JSON Lines or Parquet file")
            files.extend(found)
        elif path.exists():
            files.append(path)
        elif any(ch in spec for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
            if not matches:
                raise RcaError(f"{spec}: no file matches")
            files.extend(matches)
        else:
            raise RcaError(f"{spec}: no such file")
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique


UNDECODABLE = "undecodable: neither UTF-8 nor Windows-1252 (Latin-1)"


def _decode(data: bytes) -> tuple[str, str, list[str], set[int]]:
    """Text, encoding, notes and the lines neither encoding reads (to be quarantined).

    A file that is not UTF-8 as a whole is decoded line by line: exports assembled from
    several systems mix UTF-8 rows with Windows-1252 ones, and decoding the whole file as
    Latin-1 would corrupt every accent in its valid UTF-8 rows.
    """
    try:
        return data.decode("utf-8-sig"), "utf-8", [], set()
    except UnicodeDecodeError:
        pass
    body = data.removeprefix(b"\xef\xbb\xbf")
    parts: list[str] = []
    utf8 = legacy = 0
    bad: set[int] = set()
    for number, line in enumerate(body.splitlines(keepends=True), start=1):
        try:
            parts.append(line.decode("utf-8"))
            utf8 += not line.isascii()
        except UnicodeDecodeError:
            try:
                parts.append(line.decode("cp1252"))
                legacy += 1
            except UnicodeDecodeError:
                parts.append(line.decode("latin-1"))
                bad.add(number)
    notes = []
    if utf8:
        encoding = "mixed"
        notes.append(
            f"mixed encoding: {legacy} lines decoded as Windows-1252 (Latin-1), the others as UTF-8"
        )
    else:
        encoding = "latin-1"
        notes.append("not valid UTF-8: decoded as Latin-1 (check accents in the result)")
    if bad:
        notes.append(f"{len(bad)} lines {UNDECODABLE}: quarantined")
    return "".join(parts), encoding, notes, bad


class _Dialect(csv.excel):
    """RFC 4180 quoting with a sniffed delimiter.

    Only the delimiter is taken from `csv.Sniffer`: its guesses about quoting (doublequote,
    escapechar) go wrong on texts that themselves contain quotes, splitting valid rows.
    """


def _sniff_dialect(text: str, suffix: str) -> type[csv.Dialect]:
    if suffix == ".tsv":
        return csv.excel_tab
    sample = text[:SNIFF_BYTES]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    return type("SniffedDialect", (_Dialect,), {"delimiter": delimiter})


def _read_csv(path: Path, data: bytes) -> RawTable:
    text, encoding, notes, bad_lines = _decode(data)
    if "\x00" in text:
        text = text.replace("\x00", "")
        notes.append("NUL bytes removed")
    dialect = _sniff_dialect(text, path.suffix.lower())
    # csv refuses a field over 128 KB, and with it the whole file; no field is longer than the
    # text already in memory, so the limit is lifted to that while this file is read, and an
    # over-long text is kept, truncated and flagged by validation like any long text
    limit = csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        return _parse_csv(path, data, text, encoding, notes, dialect, bad_lines)
    finally:
        csv.field_size_limit(limit)


def _parse_csv(
    path: Path,
    data: bytes,
    text: str,
    encoding: str,
    notes: list[str],
    dialect: type[csv.Dialect],
    bad_lines: set[int],
) -> RawTable:
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows: list[list[str]] = []
    lines: list[int] = []
    rejects: list[tuple[int, str, str]] = []
    header: list[str] | None = None
    previous_end = 0
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue  # a blank line is not a record
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            if bad_lines and any(n in bad_lines for n in range(start, previous_end + 1)):
                rejects.append((start, json.dumps(record, ensure_ascii=False), UNDECODABLE))
                continue
            if len(record) != len(header):
                raw = json.dumps(record, ensure_ascii=False)
                reason = f"wrong field count: expected {len(header)}, found {len(record)}"
                rejects.append((start, raw, reason))
                continue
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise RcaError(f"{path}: unreadable CSV near line {reader.line_num}: {exc}") from exc
    if header is None:
        raise RcaError(f"{path}: empty file (no header row)")
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise RcaError(f"{path}: duplicate column names {dupes}")
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame[LINE] = lines
    delimiter = getattr(dialect, "delimiter", ",")
    notes.insert(0, f"delimiter {delimiter!r}")
    return RawTable(path, _sha256(data), encoding, frame, rejects, notes)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "tolist") and getattr(value, "ndim", 0):  # Parquet lists: arrays
        value = value.tolist()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_jsonl(path: Path, data: bytes) -> RawTable:
    text, encoding, notes, bad_lines = _decode(data)
    records: list[dict[str, str]] = []
    lines: list[int] = []
    rejects: list[tuple[int, str, str]] = []
    typed: dict[str, dict[int, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if number in bad_lines:
            rejects.append((number, line, UNDECODABLE))
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            rejects.append((number, line, f"invalid JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(obj, dict):
            rejects.append((number, line, "invalid JSON: line is not an object"))
            continue
        records.append({str(k): _cell(v) for k, v in obj.items()})
        lines.append(number)
        for key, value in obj.items():
            if kind := value_kind(value):
                typed.setdefault(str(key), {})[number] = kind
    if not records and not rejects:
        raise RcaError(f"{path}: empty file")
    frame = pd.DataFrame.from_records(records).astype(object) if records else pd.DataFrame()
    frame = frame.where(frame.notna(), "")
    frame[LINE] = lines
    return RawTable(path, _sha256(data), encoding, frame, rejects, notes, typed)


def _read_parquet(path: Path, data: bytes) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise RcaError(f"{path}: unreadable Parquet: {exc}") from exc
    frame = table.to_pandas()
    typed: dict[str, dict[int, str]] = {}
    for column in frame.columns:
        series = frame[column]
        if series.dtype == object or pd.api.types.is_bool_dtype(series):
            kinds = series.map(value_kind)
            found = kinds.notna().to_numpy()
            if found.any():
                typed[str(column)] = dict(
                    zip((np.flatnonzero(found) + 1).tolist(), kinds[found], strict=True)
                )
        if pd.api.types.is_datetime64_any_dtype(series):
            frame[column] = series.map(lambda v: "" if pd.isna(v) else v.isoformat())
        else:
            frame[column] = series.map(lambda v: "" if _is_missing(v) else _cell(v))
    frame = frame.astype(object)
    frame.columns = [str(c) for c in frame.columns]
    frame[LINE] = range(1, len(frame) + 1)
    return RawTable(path, _sha256(data), "parquet", frame, [], ["row numbers, not lines"], typed)


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and lists
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_file(path: Path) -> RawTable:
    """Read one file by its suffix; an unknown suffix or unreadable file is an RcaError."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise RcaError(
            f"{path}: unsupported file type {suffix or '(none)'}; use CSV, JSON Lines or Parquet"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RcaError(f"{path}: cannot read: {exc.strerror}") from exc
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, data)
    if suffix in JSONL_SUFFIXES:
        return _read_jsonl(path, data)
    return _read_csv(path, data)
