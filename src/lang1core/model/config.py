"""Model configuration and named size presets (docs/study.md#models).

Presets follow the published configs they are named after:
- `debug`: a few million parameters, trains on a laptop CPU in minutes.
- `smol-100m`: BEE-spoke-data/smol_llama-101M-GQA (hidden 768, 6 layers, 24 heads, 8 KV heads,
  MLP 3072, context 1024).
- `tinyllama-1b`: TinyLlama/TinyLlama-1.1B (hidden 2048, 22 layers, 32 heads, 4 KV heads,
  MLP 5632, context 2048) -> 1.10B parameters.
- `llama2-7b`: meta-llama/Llama-2-7b-hf (hidden 4096, 32 layers, 32 heads, MLP 11008,
  context 4096) -> 6.74B parameters.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

ATTENTION_IMPLS = ("triton", "sdpa", "eager")
NORM_IMPLS = ("triton", "torch")
LOSS_IMPLS = ("fused", "torch")
# The implementation switches: each picks a Triton kernel (src/lang1core/kernels/) or PyTorch.
IMPL_SWITCHES = {"attention": ATTENTION_IMPLS, "norm": NORM_IMPLS, "loss": LOSS_IMPLS}


@dataclass
class ModelConfig:
    """Shape and implementation switches of a Llama decoder."""

    vocab_size: int = 32000  # tokens in the vocabulary (the tokenizer's size)
    dim: int = 128  # hidden size (d_model)
    n_layers: int = 4  # transformer blocks
    n_heads: int = 4  # query heads; head_dim = dim // n_heads
    n_kv_heads: int = 2  # key/value heads (grouped-query attention); n_heads % n_kv_heads == 0
    hidden_dim: int = 352  # SwiGLU inner size
    max_seq_len: int = 256  # longest context the model is trained for (tokens)
    rope_theta: float = 10000.0  # rotary base frequency (Llama 1/2 value)
    norm_eps: float = 1e-5  # RMSNorm epsilon (Llama 2 value)
    tie_embeddings: bool = False  # share the input embedding with the output projection
    attention: str = "sdpa"  # "triton" (our flash kernel) | "sdpa" (PyTorch) | "eager" (reference)
    norm: str = "torch"  # "triton" (the RMSNorm kernel) | "torch"
    loss: str = "torch"  # "fused" (chunked linear+CE kernel) | "torch" (full logits)
    init_std: float = 0.02  # std of the normal initialisation (GPT-2 / Llama value)

    def __post_init__(self) -> None:
        for key, impls in IMPL_SWITCHES.items():
            if getattr(self, key) not in impls:
                raise ValueError(f"ModelConfig.{key}={getattr(self, key)!r}; expected one of {impls}")
        if self.dim % self.n_heads:
            raise ValueError(f"ModelConfig.dim={self.dim} is not divisible by n_heads={self.n_heads}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(
                f"ModelConfig.n_heads={self.n_heads} is not divisible by n_kv_heads={self.n_kv_heads}"
            )
        if (self.dim // self.n_heads) % 2:
            raise ValueError(f"head_dim={self.dim // self.n_heads} must be even for rotary embeddings")

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown ModelConfig field(s) {unknown}; expected some of {sorted(names)}")
        return cls(**d)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "ModelConfig":
        """The preset `name` with `overrides` (ModelConfig field names) applied."""
        if name not in PRESETS:
            raise ValueError(f"unknown model preset {name!r}; expected one of {sorted(PRESETS)}")
        merged = {**PRESETS[name], **{k: v for k, v in overrides.items() if v is not None}}
        return cls.from_dict(merged)

    @classmethod
    def from_section(cls, section: dict[str, Any], **overrides: Any) -> "ModelConfig":
        """Build from the workflow's `model:` config section.

        section = {preset, attention, norm, loss, overrides: {field: value}}; keyword `overrides`
        (e.g. vocab_size from the tokenizer) win over the section's.
        """
        section = dict(section or {})
        preset = section.pop("preset", "debug")
        merged: dict[str, Any] = {}
        for key in IMPL_SWITCHES:
            if key in section:
                merged[key] = section.pop(key)
        merged.update(section.pop("overrides", None) or {})
        if section:
            raise ValueError(f"unknown key(s) {sorted(section)} in the model config section")
        merged.update(overrides)
        return cls.from_preset(preset, **merged)


PRESETS: dict[str, dict[str, Any]] = {
    # ~4.8M parameters with a 32k vocabulary (4.1M of them the tied embedding).
    "debug": dict(
        vocab_size=32000, dim=128, n_layers=4, n_heads=4, n_kv_heads=2, hidden_dim=352,
        max_seq_len=256, rope_theta=10000.0, norm_eps=1e-5, tie_embeddings=True,
    ),
    "smol-100m": dict(
        vocab_size=32000, dim=768, n_layers=6, n_heads=24, n_kv_heads=8, hidden_dim=3072,
        max_seq_len=1024, rope_theta=10000.0, norm_eps=1e-6, tie_embeddings=False,
    ),
    "tinyllama-1b": dict(
        vocab_size=32000, dim=2048, n_layers=22, n_heads=32, n_kv_heads=4, hidden_dim=5632,
        max_seq_len=2048, rope_theta=10000.0, norm_eps=1e-5, tie_embeddings=False,
    ),
    "llama2-7b": dict(
        vocab_size=32000, dim=4096, n_layers=32, n_heads=32, n_kv_heads=32, hidden_dim=11008,
        max_seq_len=4096, rope_theta=10000.0, norm_eps=1e-5, tie_embeddings=False,
    ),
}
