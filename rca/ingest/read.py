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
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from rca.errors import RcaError
from rca.ingest.workbook import OLE_MAGIC, WORKBOOK_SUFFIXES, is_workbook, sheet_rows
from rca.text.counted import counted

LINE = "_line"
SNIFF_BYTES = 64 * 1024
CSV_DELIMITERS = ",;\t|"
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUPPORTED = CSV_SUFFIXES | JSONL_SUFFIXES | PARQUET_SUFFIXES | WORKBOOK_SUFFIXES
FORMATS = "CSV, JSON Lines, Parquet or a spreadsheet (.xlsx, .xls, .ods)"


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
            # not Excel's lock file of an open workbook ("~$export.xlsx", 165 bytes of owner
            # name) nor hidden files (macOS "._export.csv"): they are no export
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() in SUPPORTED and not p.name.startswith(("~$", "."))
            )
            if not found:
                raise RcaError(f"{spec}: folder holds no {FORMATS} file")
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
BOM = b"\xef\xbb\xbf"
#: Bytes read from disk at a time; a block is cut after its last line end, so no line is split.
BLOCK_BYTES = 1 << 20


def _blocks(handle: BinaryIO, digest: hashlib._Hash) -> Iterator[bytes]:
    """The file's bytes in blocks that end at a line end (b"\n"), hashed as they are read.

    Cutting after "\n" never splits a "\r\n" nor a UTF-8 sequence (0x0A is in none), so
    each block decodes and splits into lines exactly as the same bytes do inside the whole file.
    """
    pending = bytearray()
    while data := handle.read(BLOCK_BYTES):
        digest.update(data)
        searched = len(pending)
        pending += data
        cut = pending.rfind(b"\n", searched) + 1
        if cut:
            yield bytes(pending[:cut])
            del pending[:cut]
    if pending:
        yield bytes(pending)


def _line_count(block: bytes) -> int:
    """len(block.splitlines()) without building the lines."""
    ends = block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
    return ends + (bool(block) and block[-1:] not in (b"\n", b"\r"))


class _Decoder:
    """Decodes a file block by block; the text, encoding and notes are those of the whole file.

    A file that is not UTF-8 as a whole is decoded line by line: exports assembled from
    several systems mix UTF-8 rows with Windows-1252 ones, and decoding the whole file as
    Latin-1 would corrupt every accent in its valid UTF-8 rows. A line that is valid UTF-8
    decodes the same either way, so only the blocks with an invalid line go line by line.
    """

    def __init__(self) -> None:
        self.lines = 0  # lines decoded so far (bytes.splitlines numbering)
        self.failed = False  # some line is not UTF-8
        self.utf8 = False  # some non-ASCII line is UTF-8
        self.legacy = 0  # lines decoded as Windows-1252
        self.undecodable = 0

    def decode(self, block: bytes) -> tuple[str, set[int]]:
        """The block's text and the numbers of its lines neither encoding reads."""
        if self.lines == 0:
            block = block.removeprefix(BOM)
        base = self.lines
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            self.utf8 |= not block.isascii()
            self.lines += _line_count(block)
            return text, set()
        self.failed = True
        parts: list[str] = []
        bad: set[int] = set()
        lines = block.splitlines(keepends=True)
        for number, line in enumerate(lines, start=base + 1):
            try:
                parts.append(line.decode("utf-8"))
                self.utf8 |= not line.isascii()
            except UnicodeDecodeError:
                try:
                    parts.append(line.decode("cp1252"))
                    self.legacy += 1
                except UnicodeDecodeError:
                    parts.append(line.decode("latin-1"))
                    bad.add(number)
        self.lines = base + len(lines)
        self.undecodable += len(bad)
        return "".join(parts), bad

    def outcome(self) -> tuple[str, list[str]]:
        """The file's encoding and the notes about it."""
        if not self.failed:
            return "utf-8", []
        notes = []
        if self.utf8:
            encoding = "mixed"
            notes.append(
                f"mixed encoding: {self.legacy} lines decoded as Windows-1252 (Latin-1), "
                "the others as UTF-8"
            )
        else:
            encoding = "latin-1"
            notes.append("not valid UTF-8: decoded as Latin-1 (check accents in the result)")
        if self.undecodable:
            notes.append(f"{self.undecodable} lines {UNDECODABLE}: quarantined")
        return encoding, notes


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


def decode_bytes(raw: bytes) -> tuple[str, list[str]]:
    """A small file's text decoded as exports are (BOM dropped; UTF-8, and lines that are not
    as Windows-1252, as spreadsheets save "CSV" in Western locales) and the notes about it.
    For files read whole, such as a team's reason codes or a reviewed theme sheet."""
    decoder = _Decoder()
    text, _ = decoder.decode(raw)
    return text, decoder.outcome()[1]


def sniff_delimiter(text: str, suffix: str = "") -> str:
    """The delimiter of CSV text: `,` `;` (spreadsheets in locales with a decimal comma), tab
    (cells copied out of a spreadsheet and pasted) or `|`; `.tsv` is tab; `,` when unsure."""
    return str(_sniff_dialect(text, suffix).delimiter)


class FileReader:
    """Reads one file in chunks of `chunk_rows` records (None: the whole file as one chunk).

    Each chunk is a RawTable of its records, rejects and typed values (its `sha256`,
    `encoding` and `notes` are empty); once the chunks are read, `sha256`, `encoding`, `notes`,
    `columns`, `typed_kinds` and `nullable_ints` describe the whole file. `columns` given (from
    a first pass over a JSON Lines file, whose records need not share their keys) gives every
    chunk the file's columns, and `nullable_ints` (from a first pass over a Parquet file) its
    column types, so a chunk is the rows the whole file's table would hold.
    """

    def __init__(
        self,
        path: Path,
        chunk_rows: int | None = None,
        columns: list[str] | None = None,
        nullable_ints: set[str] | None = None,
        *,
        sheet: str | int | None = None,
        header_row: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.sheet = sheet  # a spreadsheet's sheet (name or 1-based position); None: the first
        self.header_row = header_row  # the header's row or line; None: the first non-blank
        self.sheets: list[str] = []  # a spreadsheet's sheets, known once it is opened
        self.chunk_rows = chunk_rows
        self.file_columns = columns
        self.sha256 = ""
        self.encoding = ""
        self.notes: list[str] = []
        self.columns: list[str] = list(columns or [])
        #: column -> the kinds of structured value it holds somewhere in the file
        self.typed_kinds: dict[str, set[str]] = {}
        #: Parquet integer columns with a null somewhere: pandas reads the whole file's as
        #: floats, so every chunk's are (given from the first pass, or found so far)
        self.nullable_ints: set[str] = set(nullable_ints or ())

    def _full(self, n: int) -> bool:
        return self.chunk_rows is not None and n >= self.chunk_rows

    def chunks(self) -> Iterator[RawTable]:
        suffix = self.path.suffix.lower()
        if suffix not in SUPPORTED:
            raise RcaError(
                f"{self.path}: unsupported file type {suffix or '(none)'}; use {FORMATS}"
            )
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise RcaError(f"{self.path}: cannot read: {exc.strerror}") from exc
        digest = hashlib.sha256()
        with handle:
            head = handle.read(len(OLE_MAGIC))
            handle.seek(0)
            spreadsheet = is_workbook(head)  # by its bytes, whatever its name
            if suffix in WORKBOOK_SUFFIXES and not spreadsheet:
                # "Export to Excel" in older tools writes a web page or tab-separated text
                # under an .xls name; the text kind reads as the CSV it is
                if head.lstrip().startswith(b"<"):
                    raise RcaError(
                        f"{self.path}: a web page saved under a {suffix} name, not a "
                        "spreadsheet: open it in Excel and save it as .xlsx or CSV"
                    )
                yield from self._csv_chunks(handle, digest)
                self.notes.append(f"named {suffix} but is text: read as CSV")
            elif spreadsheet:
                # a workbook under a .csv name (a download renamed) is still a workbook
                yield from self._workbook_chunks(handle, digest)
            elif suffix in PARQUET_SUFFIXES:
                yield from self._parquet_chunks(handle, digest)
            elif suffix in JSONL_SUFFIXES:
                yield from self._jsonl_chunks(handle, digest)
            else:
                yield from self._csv_chunks(handle, digest)
        self.sha256 = digest.hexdigest()

    def _unique(self, header: list[str]) -> list[str]:
        """A header row, refused when a name is there twice (no mapping could tell which)."""
        if len(set(header)) != len(header):
            dupes = sorted({h for h in header if header.count(h) > 1})
            raise RcaError(f"{self.path}: duplicate column names {dupes}")
        return header

    def _table(self, frame: pd.DataFrame, rejects: list, typed: dict) -> RawTable:
        for column, kinds in typed.items():
            self.typed_kinds.setdefault(column, set()).update(kinds.values())
        return RawTable(self.path, "", "", frame, rejects, [], typed)

    # CSV ------------------------------------------------------------------------------------

    def _csv_chunks(self, handle: BinaryIO, digest: hashlib._Hash) -> Iterator[RawTable]:
        decoder = _Decoder()
        bad_lines: set[int] = set()
        removed_nul = False

        def texts() -> Iterator[str]:
            nonlocal removed_nul
            for block in _blocks(handle, digest):
                text, bad = decoder.decode(block)
                bad_lines.update(bad)
                if "\x00" in text:
                    text = text.replace("\x00", "")
                    removed_nul = True
                yield text

        source = texts()
        head: list[str] = []
        for text in source:  # the sniffer's sample: the first SNIFF_BYTES characters
            head.append(text)
            if sum(map(len, head)) >= SNIFF_BYTES:
                break
        dialect = _sniff_dialect("".join(head), self.path.suffix.lower())

        def lines() -> Iterator[str]:
            for text in itertools.chain(head, source):
                yield from io.StringIO(text, newline="")

        # csv refuses a field over 128 KB, and with it the whole file; no field is longer than
        # the file, so the limit is lifted to that while this file is read, and an over-long
        # text is kept, truncated and flagged by validation like any long text
        size = self.path.stat().st_size
        limit = csv.field_size_limit(max(csv.field_size_limit(), size + 1))
        try:
            yield from self._parse_csv(csv.reader(lines(), dialect), bad_lines)
        finally:
            csv.field_size_limit(limit)
        self.encoding, self.notes = decoder.outcome()
        if removed_nul:
            self.notes.append("NUL bytes removed")
        self.notes.insert(0, f"delimiter {getattr(dialect, 'delimiter', ',')!r}")

    def _parse_csv(self, reader: Any, bad_lines: set[int]) -> Iterator[RawTable]:
        rows: list[list[str]] = []
        lines: list[int] = []
        rejects: list[tuple[int, str, str]] = []
        header: list[str] | None = None
        previous_end = 0
        yielded = False
        try:
            for record in reader:
                start = previous_end + 1
                previous_end = reader.line_num
                if not record or all(not cell.strip() for cell in record):
                    continue  # a blank line is not a record
                if header is None and self.header_row is not None and start < self.header_row:
                    continue  # a report's title block above the header
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
                if self._full(len(rows)):
                    yield self._csv_table(header, rows, lines, rejects)
                    rows, lines, rejects, yielded = [], [], [], True
        except csv.Error as exc:
            raise RcaError(
                f"{self.path}: unreadable CSV near line {reader.line_num}: {exc}"
            ) from exc
        if header is None:
            raise RcaError(f"{self.path}: empty file (no header row)")
        if rows or rejects or not yielded:
            yield self._csv_table(header, rows, lines, rejects)

    def _csv_table(
        self, header: list[str], rows: list[list[str]], lines: list[int], rejects: list
    ) -> RawTable:
        self.columns = self._unique(header)
        frame = pd.DataFrame(rows, columns=header, dtype=object)
        frame[LINE] = lines
        return self._table(frame, rejects, {})

    # Excel workbook -------------------------------------------------------------------------

    def _workbook_chunks(self, handle: BinaryIO, digest: hashlib._Hash) -> Iterator[RawTable]:
        """The first sheet's rows as records, numbered by the sheet's row (as Excel shows it).

        The header is the first non-blank row. A column with no header is not read (no mapping
        can name it), and a note says so when it holds values. TRUE/FALSE cells are typed
        "boolean", as in JSON Lines and Parquet."""
        while data := handle.read(BLOCK_BYTES):
            digest.update(data)
        handle.seek(0)
        name, self.sheets, rows = sheet_rows(handle, str(self.path), self.sheet)
        header: list[str] | None = None
        keep: list[int] = []
        records: list[list[str]] = []
        lines: list[int] = []
        typed: dict[str, dict[int, str]] = {}
        unnamed: dict[int, int] = {}  # column index -> values found under no header
        yielded = False
        for number, cells, flags in rows:
            if not cells:
                continue  # a blank row is not a record
            if header is None and self.header_row is not None and number < self.header_row:
                continue  # a report's title block above the header
            if header is None:
                header = [cell.strip() for cell in cells]
                keep = [i for i, h in enumerate(header) if h]
                self.columns = self._unique([header[i] for i in keep])
                continue
            for i in range(len(cells)):
                if cells[i] and (i >= len(header) or not header[i]):
                    unnamed[i] = unnamed.get(i, 0) + 1
            records.append([cells[i] if i < len(cells) else "" for i in keep])
            lines.append(number)
            for i in flags:
                if i < len(header) and header[i]:
                    typed.setdefault(header[i], {})[number] = "boolean"
            if self._full(len(records)):
                yield self._sheet_table(records, lines, typed)
                records, lines, typed, yielded = [], [], {}, True
        if header is None:
            raise RcaError(f"{self.path}: empty sheet {name!r} (no header row)")
        if records or not yielded:
            yield self._sheet_table(records, lines, typed)
        self.encoding = "xlsx"
        self.notes = [f"sheet {name!r}, row numbers as Excel shows them"]
        if len(self.sheets) > 1 and self.sheet is None:
            others = [s for s in self.sheets if s != name]
            self.notes.append(
                f"{counted(len(others), 'other sheet')} not read ({', '.join(others)}): "
                "options.sheet in the mapping chooses one"
            )
        for i, n in sorted(unnamed.items()):
            self.notes.append(f"column {_column_letter(i)} has no header: its {n} values not read")

    def _sheet_table(self, records: list[list[str]], lines: list[int], typed: dict) -> RawTable:
        frame = pd.DataFrame(records, columns=self.columns, dtype=object)
        frame[LINE] = lines
        return self._table(frame, [], typed)

    # JSON Lines -----------------------------------------------------------------------------

    def _jsonl_chunks(self, handle: BinaryIO, digest: hashlib._Hash) -> Iterator[RawTable]:
        decoder = _Decoder()
        records: list[dict[str, str]] = []
        lines: list[int] = []
        rejects: list[tuple[int, str, str]] = []
        typed: dict[str, dict[int, str]] = {}
        number = 0
        seen = yielded = False
        for block in _blocks(handle, digest):
            text, bad_lines = decoder.decode(block)
            for line in text.splitlines():
                number += 1
                if not line.strip():
                    continue
                seen = True
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
                if self._full(len(records)):
                    yield self._jsonl_table(records, lines, rejects, typed)
                    records, lines, rejects, typed, yielded = [], [], [], {}, True
        if not seen:
            raise RcaError(f"{self.path}: empty file")
        if records or rejects or not yielded:
            yield self._jsonl_table(records, lines, rejects, typed)
        self.encoding, self.notes = decoder.outcome()

    def _jsonl_table(
        self, records: list[dict[str, str]], lines: list[int], rejects: list, typed: dict
    ) -> RawTable:
        frame = pd.DataFrame.from_records(records).astype(object) if records else pd.DataFrame()
        known = set(self.columns)
        self.columns += [str(c) for c in frame.columns if c not in known]
        if self.file_columns is not None:
            frame = frame.reindex(columns=self.file_columns)
        frame = frame.where(frame.notna(), "")
        frame[LINE] = lines
        return self._table(frame, rejects, typed)

    # Parquet --------------------------------------------------------------------------------

    def _parquet_chunks(self, handle: BinaryIO, digest: hashlib._Hash) -> Iterator[RawTable]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.chunk_rows is None:  # as one table: pandas' types are the whole file's
            data = handle.read()
            digest.update(data)
            try:
                table = pq.read_table(pa.BufferReader(data))
            except Exception as exc:  # pyarrow raises several types for corrupt files
                raise RcaError(f"{self.path}: unreadable Parquet: {exc}") from exc
            yield self._parquet_table(table.to_pandas(), 0)
        else:
            while data := handle.read(BLOCK_BYTES):
                digest.update(data)
            handle.seek(0)
            offset = 0
            try:
                batches = pq.ParquetFile(handle).iter_batches(batch_size=self.chunk_rows)
                for batch in batches:
                    for name in batch.schema.names:
                        column = batch.column(name)
                        if pa.types.is_integer(column.type) and column.null_count:
                            self.nullable_ints.add(name)
                    table = pa.Table.from_batches([batch])
                    for name in self.nullable_ints & set(table.column_names):
                        at = table.column_names.index(name)
                        table = table.set_column(at, name, table[name].cast(pa.float64()))
                    frame = table.to_pandas()
                    yield self._parquet_table(frame, offset)
                    offset += len(frame)
            except RcaError:
                raise
            except Exception as exc:  # pyarrow raises several types for corrupt files
                raise RcaError(f"{self.path}: unreadable Parquet: {exc}") from exc
        self.encoding, self.notes = "parquet", ["row numbers, not lines"]

    def _parquet_table(self, frame: pd.DataFrame, offset: int) -> RawTable:
        typed: dict[str, dict[int, str]] = {}
        for column in frame.columns:
            series = frame[column]
            if series.dtype == object or pd.api.types.is_bool_dtype(series):
                kinds = series.map(value_kind)
                found = kinds.notna().to_numpy()
                if found.any():
                    typed[str(column)] = dict(
                        zip(
                            (np.flatnonzero(found) + 1 + offset).tolist(),
                            kinds[found],
                            strict=True,
                        )
                    )
            if pd.api.types.is_datetime64_any_dtype(series):
                frame[column] = series.map(lambda v: "" if pd.isna(v) else v.isoformat())
            else:
                frame[column] = series.map(lambda v: "" if _is_missing(v) else _cell(v))
        frame = frame.astype(object)
        frame.columns = [str(c) for c in frame.columns]
        self.columns = list(frame.columns)
        frame[LINE] = range(offset + 1, offset + len(frame) + 1)
        return self._table(frame, [], typed)


def _column_letter(index: int) -> str:
    """Excel's name of the column at 0-based ``index``: 0 -> "A", 27 -> "AB"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


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


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and lists
        return False


def read_file(path: Path) -> RawTable:
    """Read one whole file by its suffix; an unknown suffix or unreadable file is an RcaError."""
    reader = FileReader(path)
    (table,) = reader.chunks()
    table.sha256, table.encoding, table.notes = reader.sha256, reader.encoding, reader.notes
    return table
