"""POST /v1/classify: texts to their theme (or unassigned) with the champion, no refit."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from rca.api.auth import Writer
from rca.api.deps import SettingsDep, SnapshotDep, StateDep
from rca.api.routes.common import WRITE_ERRORS, check_max
from rca.api.schemas import Classification, ClassifyIn, ClassifyOut
from rca.api.snapshot import Snapshot
from rca.api.state import ServiceState
from rca.redact import redact
from rca.textnorm import normalise_for_embedding

router = APIRouter(prefix="/v1", tags=["classify"], dependencies=[Writer])


def classify_texts(state: ServiceState, snapshot: Snapshot, texts: list[str]) -> ClassifyOut:
    """Redact and normalise as ingest does, so a text gets the theme it would get stored."""
    digits = state.settings.redact_min_digit_run
    max_chars = state.settings.max_text_chars
    prepared = [normalise_for_embedding(redact(t[:max_chars], min_digit_run=digits)) for t in texts]
    catalog = snapshot.catalog
    vectors = state.encoder(catalog).encode(prepared, progress=False)
    ids, scores = catalog.assign(vectors)
    labels = dict(zip(catalog.theme_ids, catalog.labels, strict=True))
    return ClassifyOut(
        model_version=catalog.model_version,
        threshold=float(catalog.assign_threshold),
        results=[
            Classification(
                theme_id=i or None, label=labels.get(i), similarity=float(s), assigned=bool(i)
            )
            for i, s in zip(ids, scores, strict=True)
        ],
    )


@router.post("/classify", response_model=ClassifyOut, responses=WRITE_ERRORS)
async def classify(
    body: ClassifyIn, state: StateDep, snapshot: SnapshotDep, settings: SettingsDep
) -> ClassifyOut:
    """Each text's nearest theme above the model's threshold, and its cosine similarity."""
    check_max("body", "texts", len(body.texts), settings.api_max_texts)
    return await run_in_threadpool(classify_texts, state, snapshot, body.texts)
