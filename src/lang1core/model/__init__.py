"""The Llama decoder (RMSNorm, RoPE, SwiGLU, grouped-query attention) and its presets.

`lang1core.model.hf` converts to and from Hugging Face Llama directories.
"""

from lang1core.model.config import ATTENTION_IMPLS, LOSS_IMPLS, PRESETS, ModelConfig
from lang1core.model.llama import KVCache, Llama

__all__ = ["ATTENTION_IMPLS", "LOSS_IMPLS", "PRESETS", "ModelConfig", "KVCache", "Llama"]
