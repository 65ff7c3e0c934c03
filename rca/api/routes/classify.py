"""POST /v1/classify: texts to their theme (or unassigned) with the champion, no refit."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from rca.api.auth import Writer
from rca.api.deps import SettingsDep, SnapshotDep, StateDep
from rca.api.routes.common import WRITE_ERRORS, check_max
from rca.api.schemas import Classification, ClassifyIn, ClassifyOut
from rca.api.snapshot import Snapshot
from rca.api.state import ServiceState
from rca.cluster.taxonomy import route
from rca.settings import Settings
from rca.text.normalise import normalise_for_embedding
from rca.text.redact import redact

router = APIRouter(prefix="/v1", tags=["classify"], dependencies=[Writer])


def prepare_texts(settings: Settings, texts: list[str]) -> list[str]:
    """Redact and normalise as ingest does, so a text gets the theme it would get stored."""
    digits, max_chars = settings.redact_min_digit_run, settings.max_text_chars
    return [normalise_for_embedding(redact(t[:max_chars], min_digit_run=digits)) for t in texts]


def classify_vectors(
    state: ServiceState, snapshot: Snapshot, texts: list[str]
) -> tuple[ClassifyOut, np.ndarray]:
    """The answer and the texts' vectors (the dashboard looks for nearest cases with them)."""
    catalog = snapshot.catalog
    vectors = state.encoder(catalog).encode(prepare_texts(state.settings, texts), progress=False)
    ids, scores = catalog.assign(vectors)
    # the curated theme: merges, accepted splits and created themes (rca.cluster.taxonomy);
    # a text sent here is no stored contact, so no contact filed by hand is among them
    ids = route(ids, vectors, snapshot.curation, [""] * len(ids)).tolist()
    themes = snapshot.curation.themes
    labels = dict(zip(themes["theme_id"], themes["label"], strict=True))
    out = ClassifyOut(
        model_version=catalog.model_version,
        threshold=float(catalog.assign_threshold),
        results=[
            Classification(
                theme_id=i or None, label=labels.get(i), similarity=float(s), assigned=bool(i)
            )
            for i, s in zip(ids, scores, strict=True)
        ],
    )
    return out, vectors


def classify_texts(state: ServiceState, snapshot: Snapshot, texts: list[str]) -> ClassifyOut:
    return classify_vectors(state, snapshot, texts)[0]


@router.post("/classify", response_model=ClassifyOut, responses=WRITE_ERRORS)
async def classify(
    body: ClassifyIn, state: StateDep, snapshot: SnapshotDep, settings: SettingsDep
) -> ClassifyOut:
    """Each text's nearest theme above the model's threshold, and its cosine similarity."""
    check_max("body", "texts", len(body.texts), settings.api_max_texts)
    return await run_in_threadpool(classify_texts, state, snapshot, body.texts)
