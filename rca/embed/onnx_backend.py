"""The sentence-transformers pipeline of a model folder, run by ONNX Runtime on the CPU.

Why: on a 2-core machine sentence-transformers embeds ~220 texts/s, so a million contacts take
over an hour. The same transformer exported once to ONNX, fed length-bucketed batches (sorted by
token count, so little padding is computed) and tokenised by the Rust fast tokenizer in a
background thread while the previous chunk runs, gives the same vectors several times faster
(experiments/results/embed_guard.md).

The pipeline is reproduced exactly: the folder's `tokenizer.json` with truncation at
`sentence_bert_config.json`'s `max_seq_length`, the transformer, mean pooling over the attention
mask (the folder's `1_Pooling` config; only mean and CLS pooling are supported), then L2
normalisation. The export runs once per model id (torch is imported only then) and is cached as
`<cache_dir>/<model id>/model.onnx`; the int8 variant is `model.int8.onnx`, made from it by
ONNX Runtime's dynamic quantisation (weights int8, activations quantised on the fly).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from rca.errors import RcaError

#: Texts tokenised together, sorted by length and run as batches; bounds memory for 1M texts
#: and is large enough that nearly every batch holds texts of one length.
CHUNK_TEXTS = 8192
#: ONNX opset: 17 is supported by every onnxruntime release since 1.13.
OPSET = 17
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
_export_lock = threading.Lock()


def cpu_threads() -> int:
    """Cores this process may use (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _pipeline_config(model_path: Path) -> tuple[int, str]:
    """(max_seq_length, pooling mode) as the sentence-transformers folder declares them."""
    sbert = model_path / "sentence_bert_config.json"
    max_len = json.loads(sbert.read_text()).get("max_seq_length", 512) if sbert.exists() else 512
    config = json.loads((model_path / "config.json").read_text())
    max_len = min(int(max_len), int(config.get("max_position_embeddings", max_len)))
    pooling = model_path / "1_Pooling" / "config.json"
    mode = "mean"
    if pooling.exists():
        pool = json.loads(pooling.read_text())
        modes = [k for k, v in pool.items() if k.startswith("pooling_mode_") and v is True]
        if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
            raise RcaError(f"{model_path}: pooling {modes} is not supported by the ONNX backend")
        mode = "mean" if modes == ["pooling_mode_mean_tokens"] else "cls"
    return max_len, mode


def _atomic_target(target: Path) -> Path:
    """A temporary path beside ``target``: another process never sees a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".onnx")
    os.close(fd)
    return Path(tmp)


def export_onnx(model_path: Path, target: Path) -> Path:
    """Export the folder's transformer (last hidden state) to ``target`` with dynamic axes."""
    import torch
    from transformers import AutoModel

    class LastHidden(torch.nn.Module):
        """Keyword call: transformers' positional argument order changes between releases."""

        def __init__(self) -> None:
            super().__init__()
            self.model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager")

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = LastHidden().eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    # A padded dummy batch: with an all-ones mask the tracer could bake in "no padding".
    mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3], dtype=torch.int64)
    dummy = (torch.full((2, 8), 1000, dtype=torch.int64) * mask, mask, torch.zeros_like(mask))
    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "tokens"}
    tmp = _atomic_target(target)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python code
            torch.onnx.export(
                model,
                dummy,
                str(tmp),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,  # the TorchScript exporter: no onnxscript needed, stable graph
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def quantize_int8(fp32: Path, target: Path) -> Path:
    """Fuse the graph (attention, layer norm, GELU), then quantise it dynamically to int8.

    Per-channel weight scales: per-tensor scales gave cosine min 0.91 / mean 0.968 against
    sentence-transformers on Banking77, per-channel 0.98 / 0.993 at the same speed.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    config = json.loads((fp32.parent / "config.json").read_text())
    fused = _atomic_target(target)
    tmp = _atomic_target(target)
    try:
        optimizer.optimize_model(
            str(fp32),
            model_type="bert",
            num_heads=int(config["num_attention_heads"]),
            hidden_size=int(config["hidden_size"]),
        ).save_model_to_file(str(fused))
        quantize_dynamic(
            str(fused),
            str(tmp),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # fused ops are from the com.microsoft domain, which shape inference cannot type
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
        fused.unlink(missing_ok=True)
    return target


def onnx_file(model_path: Path, folder: Path, *, int8: bool) -> Path:
    """The cached ONNX file for this model, exported (and quantised) on first use."""
    fp32 = folder / FP32_FILE
    with _export_lock:
        if not fp32.exists():
            export_onnx(model_path, fp32)
        if not (folder / "config.json").exists():  # quantisation reads the model's shape here
            (folder / "config.json").write_bytes((model_path / "config.json").read_bytes())
        if not int8:
            return fp32
        int8_path = folder / INT8_FILE
        if not int8_path.exists():
            quantize_int8(fp32, int8_path)
        return int8_path


class OnnxSentenceEncoder:
    """Normalised sentence embeddings from an exported model; ``encode`` keeps input order."""

    def __init__(
        self, model_path: str | Path, folder: Path, *, int8: bool = False, batch_size: int = 64
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self.max_length, self.pooling = _pipeline_config(self.model_path)
        tokenizer = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        tokenizer.no_padding()  # each batch is padded to its own longest text below
        tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer = tokenizer
        self.onnx_path = onnx_file(self.model_path, folder, int8=int8)
        options = ort.SessionOptions()
        options.intra_op_num_threads = cpu_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(self.onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.dimension = int(
            json.loads((self.model_path / "config.json").read_text())["hidden_size"]
        )

    def _tokenise(self, texts: Sequence[str]) -> list[Any]:
        return self.tokenizer.encode_batch(list(texts))

    def _run(self, encodings: list[Any]) -> np.ndarray:
        """Pooled, normalised vectors of one batch (padded to its longest member)."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            types[row, :n] = enc.type_ids
            mask[row, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0, :].astype(np.float32)
        else:
            weights = mask[:, :, None].astype(np.float32)
            summed = np.einsum("btd,btx->bd", hidden, weights)
            pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def _chunks(self, texts: Sequence[str]) -> Iterator[tuple[int, list[Any]]]:
        """(start, encodings) per chunk; the next chunk is tokenised while this one runs."""
        starts = range(0, len(texts), CHUNK_TEXTS)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for start in starts:
                nxt = pool.submit(self._tokenise, texts[start : start + CHUNK_TEXTS])
                if pending is not None:
                    yield pending[0], pending[1].result()
                pending = (start, nxt)
            if pending is not None:
                yield pending[0], pending[1].result()

    def encode(self, texts: Sequence[str], progress: Any = None) -> np.ndarray:
        """Vectors in the order of ``texts``; ``progress`` (a tqdm-like bar) is advanced."""
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start, encodings in self._chunks(texts):
            order = np.argsort([len(e.ids) for e in encodings], kind="stable")
            for b in range(0, len(order), self.batch_size):
                rows = order[b : b + self.batch_size]
                out[start + rows] = self._run([encodings[i] for i in rows])
                if progress is not None:
                    progress.update(len(rows))
        return out
