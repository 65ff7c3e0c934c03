"""Mapping an export's columns onto rca's contact fields.

A mapping file (TOML or YAML) says where each field comes from; the format is documented in
`docs/mapping.md` and presets ship in `rca/mappings/`. Without a mapping, columns whose
normalised name equals a field name are used. Every source column that is neither a field nor
dropped becomes a categorical *dimension* for root-cause mining.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from rca.errors import RcaError
from rca.ingest.read import LINE

REQUIRED_FIELDS = ("contact_id", "created_at", "text")
OPTIONAL_FIELDS = (
    "customer_id",
    "channel",
    "is_escalation",
    "handle_time_s",
    "resolution",
    "csat",
    # conversations (issue 18): which messages are turns of one exchange
    "conversation_id",
    "in_reply_to",
    # who handled it (issue 20): first-class, not free dimensions
    "vendor",
    "site",
    "team",
    "agent_id",
    # mixed exports (issue 18): inbound = the customer's message, outbound = the company's
    "direction",
)
#: Fields added after the first release: hashed only when present, so re-ingesting an export
#: that never had them is still recognised as unchanged.
LATER_FIELDS = ("conversation_id", "in_reply_to", "vendor", "site", "team", "agent_id")
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
DIM_PREFIX = "dim:"
TEXT_JOINER = "\n\n"
#: `options.date_order` spellings -> the order validation applies to 01/02/2026-style dates.
DATE_ORDERS = {
    "day_first": "day first",
    "dmy": "day first",
    "month_first": "month first",
    "mdy": "month first",
}
#: The tables a mapping file may have, and the keys of its `[options]`.
SECTIONS = {"fields", "dimensions", "options"}
OPTIONS = {"drop", "other_columns_as_dimensions", "date_order", "sheet", "header_row"}
PRESET_DIR = Path(__file__).resolve().parent.parent / "mappings"


@dataclass(frozen=True)
class FieldSource:
    """Where one field comes from: one column, several joined, or a date and a time."""

    columns: tuple[str, ...]
    fmt: str | None = None  # strptime format for created_at, or "excel"/"excel1904" (serial days)
    value_map: dict[str, str] = field(default_factory=dict)
    true_values: tuple[str, ...] = ()
    scale: float | None = None  # multiply numbers, e.g. minutes -> seconds
    optional: bool = False  # absent columns are skipped instead of failing the file
    constant: str | None = None  # the same value on every row ({ value = "social" })


@dataclass(frozen=True)
class Mapping:
    fields: dict[str, FieldSource]
    dimensions: dict[str, str] = field(default_factory=dict)  # dimension name -> column
    drop: tuple[str, ...] = ()
    other_columns_as_dimensions: bool = True
    name: str = "columns by name"
    date_order: str | None = None  # "day first" | "month first"; None = decided per file
    #: a spreadsheet's sheet to read, by name or 1-based position (None: the first)
    sheet: str | int | None = None
    #: the header's row (spreadsheet) or line (CSV), 1-based, when a report's title block sits
    #: above it; None: the first non-blank row
    header_row: int | None = None


def normalise_name(name: str) -> str:
    """`Seller Tier` and `seller-tier` both become `seller_tier`."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _field_source(name: str, spec: Any) -> FieldSource:
    if isinstance(spec, str):
        return FieldSource((spec,))
    if isinstance(spec, list) and spec and all(isinstance(s, str) for s in spec):
        return FieldSource(tuple(spec))
    if isinstance(spec, dict):
        if "value" in spec:
            if not isinstance(spec["value"], (str, int, float, bool)):
                raise RcaError(f"mapping field {name!r}: value must be text or a number")
            return FieldSource(columns=(), constant=str(spec["value"]))
        if "date" in spec:
            cols = (spec["date"],) + ((spec["time"],) if spec.get("time") else ())
        elif "columns" in spec:
            cols = tuple(spec["columns"])
        elif "column" in spec:
            cols = (spec["column"],)
        else:
            raise RcaError(f"mapping field {name!r}: needs column, columns or date")
        return FieldSource(
            columns=cols,
            fmt=spec.get("format"),
            value_map={str(k).lower(): str(v) for k, v in (spec.get("map") or {}).items()},
            true_values=tuple(str(v).lower() for v in spec.get("true_values", ())),
            scale=float(spec["scale"]) if "scale" in spec else None,
            optional=bool(spec.get("optional", False)),
        )
    raise RcaError(f"mapping field {name!r}: expected a column name, a list or a table")


def parse_mapping(doc: dict[str, Any], name: str = "mapping") -> Mapping:
    """Build a Mapping from a parsed TOML/YAML document.

    An unknown section or option is an error, not ignored: a mapping written from memory
    (`[columns]` for `[fields]`, `dates_order`) would otherwise ingest as if it were not
    there, and the user would read "no column for required field(s)" about columns it names.
    """
    if not isinstance(doc, dict):
        raise RcaError(f"{name}: expected tables [fields], [dimensions] and [options]")
    sections = sorted(set(doc) - SECTIONS)
    if sections:
        raise RcaError(f"{name}: unknown sections {sections}; known: {sorted(SECTIONS)}")
    options = doc.get("options", {})
    if unknown_options := sorted(set(options) - OPTIONS):
        raise RcaError(f"{name}: unknown options {unknown_options}; known: {sorted(OPTIONS)}")
    fields_doc = doc.get("fields", {})
    unknown = sorted(set(fields_doc) - set(FIELDS))
    if unknown:
        raise RcaError(f"{name}: unknown fields {unknown}; known: {list(FIELDS)}")
    order = options.get("date_order")
    if order is not None and order not in DATE_ORDERS:
        raise RcaError(f"{name}: options.date_order must be one of {sorted(DATE_ORDERS)}")
    sheet = options.get("sheet")
    if isinstance(sheet, bool) or not isinstance(sheet, str | int | None):
        raise RcaError(f"{name}: options.sheet must be a sheet's name or its position (1, 2, ...)")
    header_row = options.get("header_row")
    if header_row is not None and (
        isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1
    ):
        raise RcaError(f"{name}: options.header_row must be a row number (1, 2, ...)")
    return Mapping(
        fields={key: _field_source(key, spec) for key, spec in fields_doc.items()},
        dimensions={normalise_name(k): str(v) for k, v in doc.get("dimensions", {}).items()},
        drop=tuple(options.get("drop", ())),
        other_columns_as_dimensions=bool(options.get("other_columns_as_dimensions", True)),
        name=name,
        date_order=DATE_ORDERS[order] if order is not None else None,
        sheet=sheet,
        header_row=header_row,
    )


def load_mapping(spec: str | Path) -> Mapping:
    """A mapping file path, or the name of a shipped preset (`zendesk`, `salesforce`)."""
    path = Path(spec)
    if not path.exists():
        preset = PRESET_DIR / f"{spec}.toml"
        if not preset.exists():
            presets = sorted(p.stem for p in PRESET_DIR.glob("*.toml"))
            raise RcaError(f"mapping {spec}: no such file or preset (presets: {presets})")
        path = preset
    try:
        if path.suffix.lower() in {".yaml", ".yml"}:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        else:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise RcaError(f"mapping {path}: not valid TOML/YAML: {exc}") from exc
    return parse_mapping(doc, name=str(path))


def mapping_for(mapping: Mapping | None, columns: list[str]) -> Mapping:
    """The mapping a file is read with: the given one, with every field it does not name taken
    from the column of the same name (a mapping written only to give `created_at` a format, or
    only to say `sheet`, `header_row` or `drop`, still reads `contact_id` and `text`), unless
    the mapping names or drops that column; or columns by name without one."""
    if mapping is None:
        return default_mapping(columns)
    taken = {c for s in mapping.fields.values() for c in s.columns}
    taken |= set(mapping.dimensions.values()) | set(mapping.drop)
    by_name = default_mapping([c for c in columns if c not in taken]).fields
    extra = {f: src for f, src in by_name.items() if f not in mapping.fields}
    return replace(mapping, fields={**mapping.fields, **extra}) if extra else mapping


def default_mapping(columns: list[str]) -> Mapping:
    """Fields taken from columns of the same (normalised) name."""
    by_name = {normalise_name(c): c for c in columns if c != LINE}
    return Mapping(fields={f: FieldSource((by_name[f],)) for f in FIELDS if f in by_name})


def _apply_values(values: pd.Series, source: FieldSource) -> pd.Series:
    if source.value_map:
        lowered = values.str.strip().str.lower()
        values = lowered.map(source.value_map).where(lowered.isin(source.value_map), values)
    if source.true_values:
        lowered = values.str.strip().str.lower()
        values = lowered.isin(source.true_values).map({True: "true", False: "false"})
        values = values.where(lowered != "", "")
    if source.scale is not None:
        numbers = pd.to_numeric(values, errors="coerce") * source.scale
        values = numbers.map(lambda v: "" if pd.isna(v) else repr(float(v))).where(
            numbers.notna() | (values.str.strip() == ""), values
        )
    return values


def _sources(mapping: Mapping, present: set[str]) -> dict[str, FieldSource]:
    """Each field's source in a file with these columns (optional columns it lacks dropped)."""
    sources = {
        name: replace(src, columns=tuple(c for c in src.columns if c in present))
        if src.optional
        else src
        for name, src in mapping.fields.items()
    }
    return {name: src for name, src in sources.items() if src.columns or src.constant is not None}


def _field_text(raw: pd.DataFrame, name: str, source: FieldSource) -> pd.Series:
    """One field's strings, combined from its columns as the mapping says."""
    parts = [raw[c].astype(str) for c in source.columns]
    if name == "created_at":
        values = parts[0].str.strip()
        for part in parts[1:]:
            values = (values + " " + part.str.strip()).str.strip()
    elif len(parts) == 1:
        values = parts[0]
    else:
        values = pd.Series(
            [TEXT_JOINER.join(p for p in row if p.strip()) for row in zip(*parts, strict=True)],
            index=raw.index,
            dtype=object,
        )
    return _apply_values(values, source)


def created_at_text(raw: pd.DataFrame, mapping: Mapping) -> pd.Series | None:
    """created_at's strings as `apply_mapping` builds them, a column the chunk lacks read as
    empty (a JSON Lines record without the key); None when a format or a constant fixes it,
    or nothing maps to it: no day/month order to decide."""
    columns = [c for c in raw.columns if c != LINE]
    source = _sources(mapping, set(columns)).get("created_at")
    if source is not None and source.constant is not None:
        return pd.Series(source.constant, index=raw.index, dtype=object).str.strip()
    if source is None or source.fmt:
        return None
    absent = [c for c in source.columns if c not in raw.columns]
    if absent:
        raw = raw.assign(**dict.fromkeys(absent, ""))
    return _field_text(raw, "created_at", source).astype(str).str.strip()


def check_mapping(columns: list[str], mapping: Mapping) -> tuple[dict[str, FieldSource], list[str]]:
    """The fields' sources and the columns the mapping names, for a file with `columns`.

    Raises RcaError, before anything is written, when a mapping names absent columns or a
    required field has no source.
    """
    present = set(columns)
    sources = _sources(mapping, present)
    named = [c for s in sources.values() for c in s.columns] + list(mapping.dimensions.values())
    absent = sorted({c for c in named if c not in present})
    if absent:
        raise RcaError(f"mapping {mapping.name} names columns absent from the file: {absent}")
    missing = [f for f in REQUIRED_FIELDS if f not in sources]
    if missing:
        raise RcaError(
            f"no column for required field(s) {missing}; file has {columns}: "
            "rename them or pass --mapping FILE"
        )
    return sources, named


def apply_mapping(raw: pd.DataFrame, mapping: Mapping) -> tuple[pd.DataFrame, dict[str, str]]:
    """The canonical frame (fields, `dim:` columns, LINE) and per-field strptime formats.

    Raises RcaError, before anything is written, when a mapping names absent columns or a
    required field has no source.
    """
    columns = [c for c in raw.columns if c != LINE]
    sources, named = check_mapping(columns, mapping)
    out = pd.DataFrame({LINE: raw[LINE].to_numpy()}, index=raw.index)
    formats: dict[str, str] = {}
    for name in FIELDS:
        source = sources.get(name)
        if source is None:
            out[name] = ""
            continue
        if source.constant is not None:
            out[name] = source.constant
            continue
        out[name] = _field_text(raw, name, source)
        if source.fmt:
            formats[name] = source.fmt
    used = set(named) | set(mapping.drop)
    for dim, column in mapping.dimensions.items():
        out[DIM_PREFIX + dim] = raw[column]
    if mapping.other_columns_as_dimensions:
        for column in columns:
            dim = normalise_name(column)
            if column not in used and dim and DIM_PREFIX + dim not in out.columns:
                out[DIM_PREFIX + dim] = raw[column]
    return out, formats
