"""Turning validated rows into store rows: redaction, normalisation, hashes, dimensions.

Redaction happens here, before anything is written, so PII never reaches the store unless
`RCA_KEEP_RAW_TEXT` asks for the raw text to be kept alongside. The content hash is taken over
the *source* values, so re-ingesting an unchanged export is recognised as unchanged even after
the redaction rules improve.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from rca.ingest.mapping import DIM_PREFIX, FIELDS, LATER_FIELDS
from rca.ingest.read import LINE
from rca.text.audience import RedactionPolicy
from rca.text.normalise import addressed_to, normalise_series, text_hash

FIELD_SEPARATOR = "\x1f"
#: Everything the source says about a contact except its id (order fixed: it feeds the hash).
#: `direction` is not content: it decides whether a row is a contact at all.
CONTENT_COLUMNS = tuple(f for f in FIELDS if f not in ("contact_id", "direction", *LATER_FIELDS))


def _as_text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


def content_hashes(valid: pd.DataFrame, dim_columns: list[str]) -> pd.Series:
    """A digest of everything the source said about each contact."""
    parts = [_as_text(valid[c]) for c in CONTENT_COLUMNS]
    parts += [c + "=" + _as_text(valid[c]) for c in sorted(dim_columns)]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + FIELD_SEPARATOR + part
    for column in LATER_FIELDS:  # only where given: older exports keep their hashes
        if column in valid:
            value = _as_text(valid[column])
            joined = joined.where(value == "", joined + FIELD_SEPARATOR + column + "=" + value)
    return joined.map(lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest()[:32])


#: A handle addressed by this many different customers is an organisation's account (a brand's
#: help desk), not a person's: only those become the `addressed_to` dimension.
BRAND_MIN_AUTHORS = 5


def addressed_handles(valid: pd.DataFrame) -> pd.DataFrame:
    """contact_id, handle and author (the customer, else the contact) of each message that
    opens by addressing a handle: what `brand_handles` counts over a whole file."""
    handles = valid["text"].map(addressed_to)
    found = handles.notna()
    authors = valid["customer_id"].where(valid["customer_id"].notna(), valid["contact_id"])
    return pd.DataFrame(
        {
            "contact_id": valid.loc[found, "contact_id"],
            "handle": handles[found],
            "author": authors[found],
        }
    )


def brand_handles(reach: pd.Series, keep_handles: tuple[str, ...]) -> set[str]:
    """Handles that are an organisation's, from each handle's number of distinct authors."""
    known = {h.lstrip("@").casefold() for h in keep_handles}
    return set(reach[reach >= BRAND_MIN_AUTHORS].index) | known


def addressed_dimension(valid: pd.DataFrame, keep_handles: tuple[str, ...]) -> pd.Series | None:
    """Whom each message opens by addressing, when that is a brand (None: no such column).

    Why not every handle: a reply to a person would put their handle in a dimension, which
    is personal data; a handle many customers write to (or one configured in
    RCA_REDACT_KEEP_HANDLES) is an organisation's.
    """
    handles = valid["text"].map(addressed_to)
    if handles.isna().all():
        return None
    authors = valid["customer_id"].where(valid["customer_id"].notna(), valid["contact_id"])
    reach = authors.groupby(handles).nunique()
    kept = handles.where(handles.isin(brand_handles(reach, keep_handles)))
    return kept if kept.notna().any() else None


def prepare_rows(
    valid: pd.DataFrame, *, policy: RedactionPolicy, keep_raw_text: bool, address: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Store-ready contact rows and long-format dimension rows, redacted at `policy`'s level
    (`RCA_REDACT_INGEST_LEVEL`; the person-facing level is applied again on the way out).

    `address=False` leaves out the `addressed_to` dimension, which only a whole file can
    decide (a chunk of a larger file: the pipeline adds it once the file is read)."""
    dim_columns = [c for c in valid.columns if c.startswith(DIM_PREFIX)]
    contacts = valid.drop(columns=[*dim_columns, "inbound"], errors="ignore").copy()
    contacts["content_hash"] = content_hashes(valid, dim_columns)
    contacts["text_raw"] = valid["text"] if keep_raw_text else None
    contacts["text"] = policy.redact_series(valid["text"])
    contacts["resolution"] = policy.redact_series(valid["resolution"])
    contacts["text_norm"] = normalise_series(contacts["text"])
    contacts["text_hash"] = contacts["text_norm"].map(text_hash)
    contacts = contacts.rename(columns={LINE: "source_line"})
    addressed = addressed_dimension(valid, policy.keep_handles) if address else None
    if addressed is not None:
        valid = valid.assign(**{f"{DIM_PREFIX}addressed_to": addressed})
        dim_columns = [*dim_columns, f"{DIM_PREFIX}addressed_to"]
    if dim_columns:
        dims = valid[["contact_id", *dim_columns]].melt(
            id_vars="contact_id", var_name="name", value_name="value"
        )
        dims = dims[dims["value"].notna()].copy()
        dims["name"] = dims["name"].str.slice(len(DIM_PREFIX))
        dims["value"] = policy.redact_series(dims["value"])
    else:
        dims = pd.DataFrame({"contact_id": [], "name": [], "value": []}, dtype=object)
    return contacts, dims.reset_index(drop=True)


def prepare_context(valid: pd.DataFrame, *, policy: RedactionPolicy) -> pd.DataFrame:
    """Store-ready rows for the company's own messages (outbound): kept to link a customer's
    reply to the conversation it continues, and to show the exchange, never counted."""
    return pd.DataFrame(
        {
            "message_id": valid["contact_id"],
            "created_at": valid["created_at"],
            "customer_id": valid["customer_id"],
            "conversation_id": valid["conversation_id"],
            "in_reply_to": valid["in_reply_to"],
            "text": policy.redact_series(valid["text"]),
            "source_line": valid[LINE],
        }
    )
