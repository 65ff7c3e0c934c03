"""`rca refresh --engine ray`: embedding, assignment and period counts as Ray Data jobs.

Why Ray Data and not a home-made layer: it already streams Parquet partitions through a pool
of actors (each loads the encoder once), retries lost tasks, and does the period x theme
`groupby` as a distributed shuffle. The driver keeps everything that must stay single:

1. it exports the contacts to process (with their cached vectors, so only new texts are
   embedded) as Parquet partitions under `RCA_RAY_PARTITION_DIR`, which every worker must be
   able to read;
2. Ray runs `rca.jobs.refresh_batches.embed_assign` on each partition and counts contacts per
   period and theme;
3. the results come back to the driver, which writes them to the store (the single writer) in
   one transaction, exactly as the single-process path does.

The fit never runs here: only the champion's catalog (centroids, threshold) travels to the
actors.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rca.cluster.catalog import ThemeCatalog
from rca.embed.encoder import Encoder
from rca.errors import RcaError
from rca.jobs.refresh_batches import embed_assign, tidy_counts
from rca.settings import Settings

EXPORT_COLUMNS = ["contact_id", "created_at", "text_hash", "text_norm", "vector"]
#: Shuffle partitions of the period x theme groupby: the table is small (periods x themes), so
#: one partition beats Ray's default of 200 tiny ones.
GROUPBY_PARTITIONS = 1


@dataclass
class RayOutput:
    results: pd.DataFrame  # rca.jobs.refresh_batches.RESULT_COLUMNS, one row per contact
    counts: pd.DataFrame  # period, theme_id, contacts
    seconds: dict[str, float] = field(default_factory=dict)
    partitions: int = 0


def partition_dir(settings: Settings) -> Path:
    return settings.ray_partition_dir or settings.home / "ray-partitions"


def write_partitions(frame: pd.DataFrame, folder: Path, rows_per_file: int) -> list[Path]:
    """`frame` (EXPORT_COLUMNS; `vector` None where not cached) as numbered Parquet files."""
    folder.mkdir(parents=True, exist_ok=True)
    schema = pa.schema(
        [
            ("contact_id", pa.string()),
            ("created_at", pa.timestamp("us", tz="UTC")),
            ("text_hash", pa.string()),
            ("text_norm", pa.string()),
            ("vector", pa.list_(pa.float32())),
        ]
    )
    paths = []
    for number, start in enumerate(range(0, len(frame), rows_per_file)):
        part = frame.iloc[start : start + rows_per_file]
        table = pa.table(
            {
                "contact_id": part["contact_id"].astype(str).tolist(),
                # naive UTC values under a UTC-typed column: no tz-dropping `.values` call
                "created_at": pd.to_datetime(part["created_at"], utc=True)
                .dt.tz_localize(None)
                .dt.as_unit("us")
                .to_numpy(),
                "text_hash": part["text_hash"].astype(str).tolist(),
                "text_norm": part["text_norm"].astype(str).tolist(),
                "vector": [
                    None if v is None else np.asarray(v, np.float32) for v in part["vector"]
                ],
            },
            schema=schema,
        )
        path = folder / f"part-{number:05d}.parquet"
        pq.write_table(table, path)
        paths.append(path)
    return paths


class EmbedAssign:
    """Ray Data callable class: one encoder per actor, then `embed_assign` per batch."""

    def __init__(
        self,
        *,
        model_path: str,
        backend: str,
        device: str,
        batch_size: int,
        model_id: str,
        catalog: ThemeCatalog,
        period_kind: str,
        timezone: str,
    ) -> None:
        import os

        os.environ["HF_HUB_OFFLINE"] = "1"
        self.encoder = Encoder(model_path, device=device, batch_size=batch_size, backend=backend)
        if self.encoder.model_id != model_id:  # another model folder on this worker
            raise RcaError(
                f"worker model {self.encoder.model_id} at {model_path} is not the champion's "
                f"encoder {model_id}"
            )
        self.catalog = catalog
        self.period_kind = period_kind
        self.tz = ZoneInfo(timezone)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return embed_assign(
            batch,
            lambda texts: self.encoder.encode(list(texts), progress=False),
            self.catalog,
            period_kind=self.period_kind,
            tz=self.tz,
        )


def _ray(address: str | None) -> tuple[Any, bool]:
    """The `ray` module, connected; True if this call started it (and so must shut it down)."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray[data] is a dependency
        raise RcaError("--engine ray needs ray[data]: pip install 'ray[data]'") from exc
    if ray.is_initialized():
        return ray, False
    ray.init(
        address=address or None,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
        runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1"}},
    )
    return ray, True


def _quiet(ray: Any) -> None:
    """Results go to stdout as JSON / CSV: keep Ray Data's progress reports off it."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def process_with_ray(
    frame: pd.DataFrame,
    *,
    settings: Settings,
    encoder: Encoder,
    catalog: ThemeCatalog,
    address: str | None = None,
) -> RayOutput:
    """Run embedding, assignment and the period x theme counts for `frame` on Ray."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    folder = partition_dir(settings) / f"refresh-{uuid.uuid4().hex[:12]}"
    paths = write_partitions(frame[EXPORT_COLUMNS], folder, settings.ray_partition_rows)
    seconds["export"] = time.perf_counter() - started
    try:
        started = time.perf_counter()
        ray, started_here = _ray(address or settings.ray_address)
        _quiet(ray)
        seconds["connect"] = time.perf_counter() - started
        try:
            started = time.perf_counter()
            results = (
                ray.data.read_parquet(str(folder.resolve()))
                .map_batches(
                    EmbedAssign,
                    fn_constructor_kwargs={
                        "model_path": encoder.model_path,
                        "backend": encoder.backend,
                        "device": encoder.device,
                        "batch_size": encoder.batch_size,
                        "model_id": encoder.model_id,
                        "catalog": catalog,
                        "period_kind": settings.period,
                        "timezone": settings.timezone,
                    },
                    batch_format="pandas",
                    batch_size=settings.ray_partition_rows,
                    # autoscaling pool: a fixed pool as large as the cluster never starts,
                    # as Ray Data keeps some CPU back for the other operators
                    compute=ray.data.ActorPoolStrategy(min_size=1, max_size=settings.ray_actors),
                    num_cpus=settings.ray_cpus_per_actor,
                )
                .materialize()
            )
            seconds["embed_assign"] = time.perf_counter() - started
            started = time.perf_counter()
            counts = (
                results.select_columns(["period", "theme_id"])
                .groupby(["period", "theme_id"], num_partitions=GROUPBY_PARTITIONS)
                .count()
                .to_pandas()
                .rename(columns={"count()": "contacts"})
            )
            seconds["aggregate"] = time.perf_counter() - started
            started = time.perf_counter()
            out = results.to_pandas()
            seconds["collect"] = time.perf_counter() - started
        finally:
            if started_here:
                ray.shutdown()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return RayOutput(out, tidy_counts(counts), seconds, len(paths))
