"""`rca refresh --engine ray` gives exactly what the single-process path gives.

A local Ray instance with 2 CPUs (real Ray Data: Parquet partitions, an actor pool that loads
the real encoder, a distributed groupby); the same new contacts are refreshed in two copies of
one fitted store, once per engine, and the stores and counts compared. Every fast backend (fp32
ONNX, bf16) batches texts of one token count only, so each text gets the same vector whatever
partition or batch it lands in, and vectors may be compared across engines that split the
texts differently.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import copy_home
from test_refresh import write_new_contacts

from rca.cluster.catalog import ThemeCatalog
from rca.jobs.refresh_batches import embed_assign
from rca.jobs.refresh_ray import partition_dir, write_partitions
from rca.settings import Settings
from rca.store import Store

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _stored(settings: Settings, version: str) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The refreshed contacts' assignments and the vectors of their texts."""
    with Store(settings.store_path).read() as con:
        rows = con.execute(
            "SELECT a.contact_id, a.theme_id, a.similarity, c.text_hash FROM assignments a "
            "JOIN contacts c USING (contact_id) WHERE a.model_version = ? "
            "AND a.contact_id LIKE 'NEW%' ORDER BY a.contact_id",
            [version],
        ).df()
        vectors = con.execute(
            "SELECT text_hash, vector FROM embeddings WHERE text_hash IN "
            "(SELECT text_hash FROM contacts WHERE contact_id LIKE 'NEW%')"
        ).fetchall()
    return rows, {h: np.asarray(v, dtype=np.float32) for h, v in vectors}


@pytest.mark.slow
def test_ray_engine_matches_the_single_process_path(
    fitted_demo: Settings, tmp_path: Path, local_ray: None
) -> None:
    from rca.jobs.refresh import refresh

    # 100-row partitions: the ~220 contacts to process span three Parquet files, two actors
    # fp32 on both sides: the question is whether Ray changes anything, and bf16 on CPUs with
    # AMX blocks a matmul by the batch's row count, which moved similarities by up to 5e-4
    local = copy_home(fitted_demo, tmp_path / "local", embed_backend="onnx")
    on_ray = copy_home(
        fitted_demo, tmp_path / "ray", embed_backend="onnx", ray_partition_rows=100, ray_actors=2
    )
    export = tmp_path / "exports" / "today.csv"
    new = write_new_contacts(local, export)

    one = refresh(local, [str(export)], summarise=False)
    two = refresh(on_ray, [str(export)], engine="ray", summarise=False)

    assert one.processed == two.processed == len(new)
    assert one.new_vectors == two.new_vectors > 0
    pd.testing.assert_frame_equal(one.counts, two.counts)  # period x theme, exactly
    assert one.unassigned == two.unassigned > 0
    assert [r.as_dict() for r in one.new_regions] == [r.as_dict() for r in two.new_regions]
    assert one.refit_due and two.refit_due and one.reasons == two.reasons

    rows_one, vec_one = _stored(local, one.model_version)
    rows_two, vec_two = _stored(on_ray, two.model_version)
    assert rows_one["contact_id"].tolist() == rows_two["contact_id"].tolist()
    assert rows_one["theme_id"].fillna("").tolist() == rows_two["theme_id"].fillna("").tolist()
    np.testing.assert_allclose(rows_one["similarity"], rows_two["similarity"], atol=1e-9)
    assert vec_one.keys() == vec_two.keys()
    worst = max(float(np.abs(vec_one[h] - vec_two[h]).max()) for h in vec_one)
    assert worst <= 1e-6
    assert {"export", "embed_assign", "aggregate", "write"} <= set(two.seconds)
    assert not any(partition_dir(on_ray).iterdir())  # partitions removed after the run


def test_partitions_carry_cached_vectors_and_only_new_texts_are_embedded(tmp_path: Path) -> None:
    cached = np.eye(3, dtype=np.float32)[0]
    frame = pd.DataFrame(
        {
            "contact_id": ["A", "B", "C"],
            "created_at": pd.to_datetime(
                ["2026-11-16T10:00Z", "2026-11-17T10:00Z", "2026-11-23T10:00Z"]
            ),
            "text_hash": ["h1", "h2", "h2"],
            "text_norm": ["cached text", "new text", "new text"],
            "vector": [cached, None, None],
        }
    )
    paths = write_partitions(frame, tmp_path, rows_per_file=2)
    assert len(paths) == 2
    batch = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    encoded: list[list[str]] = []

    def encode(texts):
        encoded.append(list(texts))
        return np.tile(np.eye(3, dtype=np.float32)[1], (len(texts), 1))

    catalog = ThemeCatalog(
        model_version="m1",
        encoder_id="e",
        trained_at="",
        assign_threshold=0.5,
        theme_ids=["T1", "T2"],
        labels=["a", "b"],
        keywords=[[], []],
        parent_ids=["G01", "G01"],
        parent_labels={},
        sizes=[1, 1],
        centroids=np.eye(3, dtype=np.float32)[:2],
    )
    out = embed_assign(batch, encode, catalog, period_kind="week", tz=Settings().tz)
    assert encoded == [["new text"]]  # one distinct uncached text, embedded once
    assert out["embedded"].tolist() == [False, True, True]
    assert out["theme_id"].tolist() == ["T1", "T2", "T2"]
    assert out["period"].tolist() == ["2026-W47", "2026-W47", "2026-W48"]
