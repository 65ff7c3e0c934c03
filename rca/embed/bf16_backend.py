"""The folder's transformer in bfloat16 on a CPU with native bf16 arithmetic.

Why: on this machine fp32 matrix products are already at ~70% of the cores' peak (ONNX Runtime
profile: MatMul is 79% of the time), so fp32 tops out near 1,000 texts/s on two cores. CPUs
with AVX512_BF16 (AMD Zen 4/5, Intel Cooper Lake) or AMX (Intel Sapphire Rapids and later)
multiply bf16 at twice the fp32 rate with fp32 accumulation, through PyTorch's oneDNN kernels.
Unlike int8, which quantises activations and failed the quality guard, bf16 keeps fp32's
exponent range: cosine to the fp32 vectors is at least 0.9999 on every Banking77 text
(experiments/results/embed_guard.md). Without native bf16 the same code runs emulated and
slower than fp32, so `auto` picks this backend only where `native_bf16()` says so.

Eager attention: PyTorch's fused SDPA kernel was 20-25% slower in bf16 at support-text lengths
(10-30 tokens).
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from rca.embed.batching import BucketedEncoder

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


class Bf16SentenceEncoder(BucketedEncoder):
    """The transformer's weights and activations in bf16; pooling and normalising in fp32."""

    def __init__(self, model_path: str | Path, *, batch_size: int = 64) -> None:
        import torch
        from transformers import AutoModel

        super().__init__(model_path, batch_size=batch_size)
        model = AutoModel.from_pretrained(str(self.model_path), attn_implementation="eager")
        self.model = model.eval().to(torch.bfloat16)

    def _hidden(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            hidden = self.model(
                input_ids=torch.from_numpy(ids),
                attention_mask=torch.from_numpy(mask),
                token_type_ids=torch.from_numpy(types),
            ).last_hidden_state
            return hidden.float().numpy()
