"""The folder's transformer in half precision: bfloat16 on a CPU, float16 on a GPU.

Why, on a CPU: fp32 matrix products already run at ~70% of this machine's peak (ONNX Runtime
profile: MatMul is 79% of the time), so fp32 tops out near 1,000 texts/s on two cores. CPUs
with AVX512_BF16 (AMD Zen 4/5, Intel Cooper Lake) or AMX (Intel Sapphire Rapids and later)
multiply bf16 at twice the fp32 rate with fp32 accumulation, through PyTorch's oneDNN kernels.
Unlike int8, which quantises activations and failed the quality guard, bf16 keeps fp32's
exponent range: cosine to the fp32 vectors is at least 0.9998 on every Banking77 and Bitext
text (experiments/results/embed_guard.md). Without native bf16 the same code runs emulated and
slower than fp32, so `auto` picks this backend on a CPU only where `native_bf16()` says so.

Why, on a GPU: sentence-transformers tokenises in the loop that feeds the GPU, which is what
caps it on a fast card; here tokenising runs a chunk ahead in a thread (`batching`), batches
are length-bucketed, and pooling runs on the device so only the pooled vectors come back.

Eager attention: PyTorch's fused SDPA kernel was 20-25% slower in bf16 on the CPU at
support-text lengths (10-30 tokens); `torch.compile` gave nothing (823 vs 860 texts/s after a
50 s compile).
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import numpy as np

from rca.embed.batching import BucketedEncoder, padded

#: /proc/cpuinfo flags that mean bf16 products run in hardware (x86: AVX512_BF16, AMX; Arm:
#: the BF16 extension of Armv8.6, e.g. AWS Graviton 3/4).
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of the first processor listed in a /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in {"flags", "features"}:
            return frozenset(value.split())
    return frozenset()


def native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU multiplies bf16 in hardware (Linux; False where it cannot tell)."""
    if cpuinfo is None:
        if platform.system() != "Linux":
            return False
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    return bool(cpu_flags(cpuinfo) & BF16_FLAGS)


class HalfPrecisionEncoder(BucketedEncoder):
    """Weights and activations in half precision; pooling and normalising in fp32."""

    def __init__(
        self, model_path: str | Path, *, device: str = "cpu", batch_size: int = 64
    ) -> None:
        import torch
        from transformers import AutoModel

        super().__init__(model_path, batch_size=batch_size)
        self.device = torch.device(device)
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.bfloat16
        model = AutoModel.from_pretrained(str(self.model_path), attn_implementation="eager")
        self.model = model.eval().to(device=self.device, dtype=self.dtype)

    def _tensors(self, encodings: list[Any]) -> tuple[Any, Any, Any]:
        import torch

        return tuple(
            torch.from_numpy(a).to(self.device, non_blocking=True) for a in padded(encodings)
        )  # type: ignore[return-value]

    def _run(self, encodings: list[Any]) -> np.ndarray:
        """One batch: transformer, masked mean (or CLS) pooling and normalising on the device."""
        import torch

        ids, types, mask = self._tensors(encodings)
        with torch.inference_mode():
            hidden = self.model(
                input_ids=ids, attention_mask=mask, token_type_ids=types
            ).last_hidden_state.float()
            if self.pooling == "cls":
                vectors = hidden[:, 0, :]
            else:
                weights = mask.unsqueeze(-1).float()
                vectors = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            vectors = torch.nn.functional.normalize(vectors, dim=1, eps=1e-12)
            return vectors.cpu().numpy().astype(np.float32, copy=False)
