"""The sentence-transformers model folder exported to ONNX Runtime, run on the CPU.

Why: on a 2-core machine sentence-transformers embeds ~220-370 texts/s, so a million contacts
take an hour. The same transformer exported once to ONNX and driven by the shared bucketed
pipeline (`rca.embed.batching`) gives the same vectors (cosine min 0.9999998) 2.5x faster, on
any CPU (experiments/results/embed_guard.md).

The export runs once per model id (torch is imported only then) and is cached as
`<cache_dir>/<model id>/model.onnx`; the int8 variant is `model.int8.onnx`, made from it by
ONNX Runtime's dynamic quantisation (weights int8, activations quantised on the fly).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rca.embed.batching import BucketedEncoder, cpu_threads

#: ONNX opset: 17 is supported by every onnxruntime release since 1.13.
OPSET = 17
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
_export_lock = threading.Lock()


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


class OnnxSentenceEncoder(BucketedEncoder):
    """The folder's transformer as an ONNX Runtime session (fp32, or int8 when asked)."""

    def __init__(
        self, model_path: str | Path, folder: Path, *, int8: bool = False, batch_size: int = 64
    ) -> None:
        import onnxruntime as ort

        super().__init__(model_path, batch_size=batch_size)
        self.onnx_path = onnx_file(self.model_path, folder, int8=int8)
        options = ort.SessionOptions()
        options.intra_op_num_threads = cpu_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(self.onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self.session.get_inputs()}

    def _hidden(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
