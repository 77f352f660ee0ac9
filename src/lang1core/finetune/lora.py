"""Low-rank adapters (LoRA; Hu et al. 2021) for base models too large to finetune fully.

The study's setting: rank 8, alpha 16, dropout 0.05, on the attention's query and value
projections. `apply_lora` wraps those nn.Linear layers and freezes every other weight;
`merge_lora` folds the adapters back (W + B A * alpha / r) so the result saves and loads as
a plain model.
"""

from __future__ import annotations

import math

import torch
from torch import nn

# Short target names -> the module names used by our Llama and by Hugging Face's.
TARGET_NAMES = {
    "q": {"wq", "q_proj", "query", "q"},
    "k": {"wk", "k_proj", "key", "k"},
    "v": {"wv", "v_proj", "value", "v"},
    "o": {"wo", "o_proj", "out_proj", "o"},
}


class LoRALinear(nn.Module):
    """y = base(x) + dropout(x) A^T B^T * alpha / r, base frozen. A [r, in], B [out, r]."""

    def __init__(self, base: nn.Linear, rank: int = 8, alpha: float = 16, dropout: float = 0.05):
        super().__init__()
        self.base = base
        self.rank, self.scaling = rank, alpha / rank
        self.dropout = nn.Dropout(dropout)
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features, device=base.weight.device))
        # B starts at zero so the wrapped model equals the base model before training.
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank, device=base.weight.device))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        base.weight.requires_grad_(False)
        if base.bias is not None:
            base.bias.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = self.dropout(x) @ self.lora_a.t().to(x.dtype) @ self.lora_b.t().to(x.dtype)
        return self.base(x) + update * self.scaling

    def merged(self) -> nn.Linear:
        with torch.no_grad():
            delta = (self.lora_b @ self.lora_a) * self.scaling
            self.base.weight += delta.to(self.base.weight.dtype)
        self.base.weight.requires_grad_(True)
        return self.base


def apply_lora(model: nn.Module, targets=("q", "v"), rank: int = 8, alpha: float = 16,
               dropout: float = 0.05) -> int:
    """Wrap the target linears in place, freeze everything else; returns the count wrapped."""
    names = set().union(*(TARGET_NAMES.get(t, {t}) for t in targets))
    for p in model.parameters():
        p.requires_grad_(False)
    wrapped = 0
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if child_name in names and isinstance(child, nn.Linear):
                setattr(parent, child_name, LoRALinear(child, rank, alpha, dropout))
                wrapped += 1
    if wrapped == 0:
        raise ValueError(f"LoRA: no nn.Linear named any of {sorted(names)} in the model")
    return wrapped


def merge_lora(model: nn.Module) -> nn.Module:
    """Replace every LoRALinear by its merged nn.Linear (in place); returns the model."""
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, LoRALinear):
                setattr(parent, child_name, child.merged())
    for p in model.parameters():
        p.requires_grad_(True)
    return model
