"""`rca refresh`: the daily job. Ingest new exports, put new contacts into the champion's
themes without a refit, summarise the latest period, and say whether a refit is due.

Steps: `ingest_paths` (the same validation and single transaction as `rca ingest`); the
contacts the champion has not assigned yet, plus those this ingest changed, are embedded (only
texts not in the embedding cache) and assigned to the champion's centroids, either in this
process (`rca.jobs.assign.assign_frame`) or as Ray Data jobs (`rca.jobs.refresh_ray`, same
results); then `rca.jobs.refresh_drift` checks the recent window for drift and new dense regions.

Series, spikes and repeats are computed on read from the store in this codebase (`rca
spikes`, `rca drivers` and the API, which reloads when the store changes), so refresh persists
nothing beyond the ingest, the new vectors and the assignments: it *prints* the latest period's
spike summary (`rca.queries.spike_report.detect_spikes`) and repeat totals
(`rca.queries.repeat_drivers.drivers_payload`) as read from the refreshed store. A refit is
never started here; `refit_due` says when to run `rca fit`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from rca.cluster.catalog import ThemeCatalog
from rca.embed.cache import missing_hashes, read_vectors, write_vectors
from rca.embed.encoder import Encoder
from rca.errors import RcaError
from rca.ingest.pipeline import ingest_paths
from rca.jobs.assign import assign_frame, encoder_for
from rca.jobs.curate import rebuild_members
from rca.jobs.refresh_batches import period_theme_counts
from rca.jobs.refresh_drift import (
    DriftCheck,
    DriftRules,
    NewRegion,
    dense_regions,
    refit_verdict,
    unassigned_drift,
)
from rca.jobs.tracking import load_store_model
from rca.settings import Settings
from rca.store import Store
from rca.store.db import first_row
from rca.store.themes import write_assignments
from rca.text.audience import people_name_finder
from rca.trends.series import period_names

ENGINES = ("local", "ray")
SPIKE_KEYS = ("theme_id", "label", "kind", "severity", "observed", "expected", "growth")
DRIVER_KEYS = ("rank", "theme_id", "label", "score")


@dataclass
class RefreshResult:
    """Everything `rca refresh` prints; `payload()` is the stable JSON form."""

    engine: str
    model_version: str
    ingest: dict[str, Any] | None
    processed: int
    new_vectors: int
    unassigned: int
    counts: pd.DataFrame  # period, theme_id ("" = unassigned), contacts: the processed ones
    drift: DriftCheck
    new_regions: list[NewRegion]
    refit_due: bool
    reasons: list[str]
    spikes: dict[str, Any] | None = None
    repeats: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        counts = self.counts.assign(theme_id=self.counts["theme_id"].replace("", None))
        return {
            "command": "refresh",
            "engine": self.engine,
            "model_version": self.model_version,
            "ingest": self.ingest,
            "contacts_processed": self.processed,
            "new_vectors": self.new_vectors,
            "unassigned": self.unassigned,
            "refit_due": self.refit_due,
            "reasons": self.reasons,
            "drift": self.drift.as_dict(),
            "new_regions": [r.as_dict() for r in self.new_regions],
            "counts": counts.to_dict(orient="records"),
            "spikes": self.spikes,
            "repeats": self.repeats,
            "notes": self.notes,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def pending_contacts(
    con: duckdb.DuckDBPyConnection, model_version: str, ingest_id: str | None
) -> pd.DataFrame:
    """Contacts the champion has not assigned, and those this ingest inserted or changed."""
    return con.execute(
        "SELECT c.contact_id, c.created_at, c.text_hash, c.text_norm FROM contacts c "
        "LEFT JOIN assignments a ON a.contact_id = c.contact_id AND a.model_version = ? "
        "WHERE a.contact_id IS NULL OR c.ingest_id = ? ORDER BY c.created_at, c.contact_id",
        [model_version, ingest_id or ""],
    ).df()


def with_cached_vectors(
    con: duckdb.DuckDBPyConnection, model_id: str, frame: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """`frame` plus a `vector` column (None where the text is not cached), and the number of
    distinct texts still to embed."""
    missing = set(missing_hashes(con, model_id, frame["text_hash"]))
    have = ~frame["text_hash"].isin(missing).to_numpy()
    vectors: list[np.ndarray | None] = [None] * len(frame)
    if have.any():
        found = read_vectors(con, model_id, frame["text_hash"][have])
        for row, vector in zip(np.flatnonzero(have), found, strict=True):
            vectors[row] = vector
    return frame.assign(vector=vectors), len(missing)


def _fit_unassigned_fraction(con: duckdb.DuckDBPyConnection, catalog: ThemeCatalog) -> float | None:
    """The champion fit's own unassigned share: the store's `models.metrics`, else MLflow's."""
    row = first_row(
        con, "SELECT metrics FROM models WHERE model_version = ?", [catalog.model_version]
    )
    metrics = json.loads(row[0]) if row and row[0] else {}
    value = metrics.get("unassigned_fraction", catalog.metrics.get("unassigned_fraction"))
    return None if value is None else float(value)


def _window(con: duckdb.DuckDBPyConnection, version: str, days: float) -> pd.DataFrame:
    """The recent window's contacts with their champion theme (NULL = unassigned)."""
    return con.execute(
        "SELECT c.contact_id, c.created_at, c.text, c.text_hash, a.theme_id FROM contacts c "
        "LEFT JOIN assignments a ON a.contact_id = c.contact_id AND a.model_version = ? "
        "WHERE c.created_at > (SELECT max(created_at) FROM contacts) - ?::INTERVAL "
        "ORDER BY c.created_at, c.contact_id",
        [version, timedelta(days=days)],
    ).df()


def _local(
    store: Store, encoder: Encoder, catalog: ThemeCatalog, pending: pd.DataFrame, settings: Settings
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The single-process path: `assign_frame`, then the counts from what was written."""
    started = time.perf_counter()
    result = assign_frame(store, encoder, catalog, pending, replace=True)
    total = time.perf_counter() - started
    seconds = {
        "embed": result.embed_seconds,
        "assign": result.assign_seconds,
        "write": total - result.embed_seconds - result.assign_seconds,
    }
    started = time.perf_counter()
    with store.read() as con:
        con.register("refreshed_ids", pending[["contact_id"]])
        try:
            written = con.execute(
                "SELECT a.theme_id, c.created_at FROM assignments a JOIN contacts c "
                "USING (contact_id) WHERE a.model_version = ? "
                "AND contact_id IN (SELECT contact_id FROM refreshed_ids)",
                [catalog.model_version],
            ).df()
        finally:
            con.unregister("refreshed_ids")
    written["period"] = period_names(written["created_at"], settings.period, settings.tz)
    counts = period_theme_counts(written)
    seconds["aggregate"] = time.perf_counter() - started
    return counts, seconds


def _ray(
    store: Store,
    encoder: Encoder,
    catalog: ThemeCatalog,
    pending: pd.DataFrame,
    settings: Settings,
    address: str | None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Ray Data does the work; the driver writes vectors and assignments in one transaction."""
    from rca.jobs.refresh_ray import process_with_ray

    output = process_with_ray(
        pending, settings=settings, encoder=encoder, catalog=catalog, address=address
    )
    started = time.perf_counter()
    fresh = output.results.loc[output.results["embedded"]].drop_duplicates("text_hash")
    with store.write() as con:
        if len(fresh):
            write_vectors(con, encoder.model_id, fresh["text_hash"], np.vstack(fresh["vector"]))
        write_assignments(con, catalog.model_version, output.results, replace=True)
        rebuild_members(con, catalog.model_version)  # the taxonomy's corrections, if any
    output.seconds["write"] = time.perf_counter() - started
    return output.counts, output.seconds


def _spike_summary(report: Any) -> dict[str, Any]:
    return {
        "period": report.period.name,
        "partial": report.partial,
        "scored": report.scored,
        "note": report.note,
        "total_alert": bool(report.total.get("alert")),
        "spikes": [{k: s.get(k) for k in SPIKE_KEYS} for s in report.spikes],
    }


def _repeat_summary(payload: dict[str, Any], top: int) -> dict[str, Any]:
    return {
        "period": payload["period"],
        "incomplete": payload["incomplete"],
        "totals": payload["totals"],
        "top_drivers": [
            {**{k: d[k] for k in DRIVER_KEYS}, "repeat_contacts": d["figures"]["repeat_contacts"]}
            for d in payload["drivers"][:top]
        ],
    }


def refresh(
    settings: Settings,
    paths: list[str] | None = None,
    *,
    mapping_spec: str | None = None,
    engine: str = "local",
    address: str | None = None,
    summarise: bool = True,
    now: datetime | None = None,
    say: Callable[[str], None] = lambda _m: None,
) -> RefreshResult:
    """Ingest `paths`, assign what the champion has not seen, check drift; never refits.

    `summarise=False` skips the spike and repeat summaries (the slowest reads of a big store).
    """
    if engine not in ENGINES:
        raise RcaError(f"--engine must be one of {', '.join(ENGINES)}")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    summary = None
    if paths:
        summary = ingest_paths(paths, settings, mapping_spec=mapping_spec, now=now)
        totals = summary.totals()
        say(f"ingested {totals['inserted']} new and {totals['updated']} changed contacts")
    seconds["ingest"] = time.perf_counter() - clock

    started = time.perf_counter()
    catalog = load_store_model(settings)
    encoder = encoder_for(settings, catalog)
    store = Store(settings.store_path)
    seconds["load_model"] = time.perf_counter() - started

    started = time.perf_counter()
    with store.read() as con:
        pending = pending_contacts(con, catalog.model_version, summary and summary.ingest_id)
        if engine == "ray":
            pending, to_embed = with_cached_vectors(con, encoder.model_id, pending)
        else:
            to_embed = len(missing_hashes(con, encoder.model_id, pending["text_hash"]))
    seconds["select"] = time.perf_counter() - started
    say(f"{len(pending)} contacts to assign ({to_embed} texts to embed), engine {engine}")

    counts = period_theme_counts(pd.DataFrame(columns=["period", "theme_id"]))
    if len(pending):
        run = _ray if engine == "ray" else _local
        args = (address,) if engine == "ray" else ()
        counts, stage = run(store, encoder, catalog, pending, settings, *args)
        seconds.update(stage)

    started = time.perf_counter()
    rules = DriftRules.from_settings(settings)
    with store.read() as con:
        fit_share = _fit_unassigned_fraction(con, catalog)
        window = _window(con, catalog.model_version, rules.window_days)
        lost = window.loc[window["theme_id"].isna()].reset_index(drop=True)
        X = read_vectors(con, encoder.model_id, lost["text_hash"]) if len(lost) else None
    drift = unassigned_drift(window["theme_id"], window["created_at"], fit_share, rules)
    seconds["drift"] = time.perf_counter() - started
    started = time.perf_counter()
    regions = []
    if X is not None:
        regions = dense_regions(
            X,
            lost["text"].tolist(),
            lost["contact_id"].tolist(),
            rules.new_region_min_size,
            find_names=people_name_finder(settings),
        )
    seconds["new_regions"] = time.perf_counter() - started
    due, reasons = refit_verdict(drift, regions)

    result = RefreshResult(
        engine=engine,
        model_version=catalog.model_version,
        ingest=summary.to_dict() if summary else None,
        processed=len(pending),
        new_vectors=to_embed,
        unassigned=int((counts.loc[counts["theme_id"] == "", "contacts"]).sum()),
        counts=counts,
        drift=drift,
        new_regions=regions,
        refit_due=due,
        reasons=reasons,
    )
    if not drift.judged:
        result.notes.append(
            f"drift not judged: {drift.window_contacts} contacts in the last "
            f"{rules.window_days:g} days (need {rules.min_window_contacts})"
            if drift.fit_unassigned_fraction is not None
            else "drift not judged: the champion has no unassigned_fraction metric"
        )
    if summarise:
        _summarise(settings, result, seconds, now)
    seconds["total"] = time.perf_counter() - clock
    result.seconds = seconds
    return result


def _summarise(
    settings: Settings, result: RefreshResult, seconds: dict[str, float], now: datetime | None
) -> None:
    """The latest period's spikes and repeat totals, read from the refreshed store."""
    from rca.queries.repeat_drivers import drivers_payload
    from rca.queries.spike_report import detect_spikes

    started = time.perf_counter()
    report = None
    try:
        report = detect_spikes(settings, "latest", now=now or datetime.now(UTC))
        result.spikes = _spike_summary(report)
    except RcaError as exc:
        result.notes.append(f"spikes not scored: {exc}")
    seconds["spikes"] = time.perf_counter() - started
    started = time.perf_counter()
    try:
        payload = drivers_payload(
            settings,
            period=report.period.name if report else "latest",
            top=settings.report_top_drivers,
            context=report.driver_context() if report else {},
        )
        result.repeats = _repeat_summary(payload, settings.report_top_drivers)
    except RcaError as exc:
        result.notes.append(f"repeats not summarised: {exc}")
    seconds["repeats"] = time.perf_counter() - started
