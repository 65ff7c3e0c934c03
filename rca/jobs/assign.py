"""`rca assign`: put contacts the champion has not seen into its themes, without a refit.

Uses only the champion's catalog (centroids and threshold) from the MLflow registry, so the
answer for a contact never depends on what else is in the batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from rca.cluster.catalog import ThemeCatalog
from rca.embed.cache import ensure_embeddings, read_vectors
from rca.embed.encoder import Encoder, encoder_from_settings
from rca.errors import RcaError
from rca.jobs.curate import members_frame
from rca.jobs.tracking import load_store_model
from rca.settings import Settings
from rca.store import Store
from rca.store.curation import curated_view, write_members
from rca.store.themes import load_contacts, write_assignments


@dataclass
class AssignResult:
    model_version: str
    contacts: int
    unassigned: int
    embed_seconds: float
    assign_seconds: float


def encoder_for(settings: Settings, catalog: ThemeCatalog) -> Encoder:
    """The configured encoder, refused if it is not the one the catalog was fitted with.

    `auto` always resolves to a full-precision backend (torch, onnx or half: one model id), so
    a champion fitted on any of them keeps assigning on any machine without a refit; only an
    explicit `onnx-int8` (its own id) against a full-precision champion, or the reverse, is
    refused.
    """
    encoder = encoder_from_settings(settings)
    if encoder.model_id != catalog.encoder_id:
        raise RcaError(
            f"champion {catalog.model_version} was fitted with encoder {catalog.encoder_id}, "
            f"but RCA_MODEL_PATH and RCA_EMBED_BACKEND give {encoder.model_id}: refit or "
            "change the setting"
        )
    return encoder


def assign_contacts(settings: Settings, *, reassign_all: bool = False) -> AssignResult:
    store = Store(settings.store_path)
    store.upgrade()  # a store from an older rca: migrate before the first read
    catalog = load_store_model(settings)
    with store.read() as con:
        done = con.execute(
            "SELECT contact_id FROM assignments WHERE model_version = ?", [catalog.model_version]
        ).df()
        contacts = load_contacts(con)
    if not reassign_all:
        contacts = contacts[~contacts["contact_id"].isin(done["contact_id"])]
    if contacts.empty:
        return AssignResult(catalog.model_version, 0, 0, 0.0, 0.0)
    return assign_frame(
        store, encoder_for(settings, catalog), catalog, contacts, replace=reassign_all
    )


def assign_frame(
    store: Store,
    encoder: Encoder,
    catalog: ThemeCatalog,
    contacts: pd.DataFrame,
    *,
    replace: bool = False,
) -> AssignResult:
    """Embed what is not cached, assign to the catalog's centroids, write the assignments.

    Shared by `rca assign` and the API's POST /v1/contacts (which passes its long-lived encoder
    and `replace=True`, so a contact whose text was updated gets its new theme).
    """
    started = time.perf_counter()
    ensure_embeddings(store, encoder, contacts)
    with store.read() as con:
        X = read_vectors(con, encoder.model_id, contacts["text_hash"])
    embed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ids, score = catalog.assign(X)
    assign_seconds = time.perf_counter() - started
    frame = pd.DataFrame(
        {"contact_id": contacts["contact_id"].to_numpy(), "theme_id": ids, "similarity": score}
    )
    with store.write() as con:
        write_assignments(con, catalog.model_version, frame, replace=replace)
        # the people's corrections (merges, accepted splits, created themes) apply to new
        # contacts too: their curated theme, where it differs from the fitted one
        view = curated_view(con, catalog.model_version)
        if view.routing:
            members = members_frame(view, frame, X if view.needs_vectors else None)
            write_members(con, catalog.model_version, members, scope=frame["contact_id"])
    unassigned = sum(1 for i in ids if not i)
    return AssignResult(
        catalog.model_version, len(frame), unassigned, embed_seconds, assign_seconds
    )
