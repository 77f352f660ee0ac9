"""Llama decoder, written to match Hugging Face `LlamaForCausalLM` exactly.

Shapes: B batch, T sequence, D model dim, H query heads, K key/value heads, Dh head dim,
V vocabulary. Rotary embeddings use the "rotate half" layout that Hugging Face checkpoints
store, so weights convert by renaming only (see `lang1core.model.hf`).

Implementation switches (`ModelConfig.attention`, `ModelConfig.loss`) pick the Triton
kernels of `lang1core.kernels` or PyTorch paths. When a Triton kernel cannot run (no GPU and
not under TRITON_INTERPRET=1) the model falls back to PyTorch and logs it once.
Parallelism (FSDP, activation checkpointing, compile) is applied from outside (DESIGN §6.7).
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn.functional as F
from torch import nn

from lang1core.logs import warn_once
from lang1core.model.backends import triton_usable
from lang1core.model.config import ModelConfig

log = logging.getLogger(__name__)


class RMSNorm(nn.Module):
    """y = w * x / sqrt(mean(x^2) + eps), computed in float32 like Hugging Face's."""

    def __init__(self, dim: int, eps: float, use_triton: bool = False):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.use_triton = use_triton

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.use_triton and triton_usable(x, "rmsnorm"):
            from lang1core.kernels.rmsnorm import rmsnorm

            return rmsnorm(x, self.weight, self.eps)
        dtype = x.dtype
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


def rotary_cos_sin(seq_len: int, head_dim: int, theta: float, device, dtype):
    """cos, sin [T, Dh] for positions 0..T-1 (Hugging Face's default rope, no scaling)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.int64).float() / head_dim))
    pos = torch.arange(seq_len, device=device, dtype=torch.float32)
    freqs = torch.outer(pos, inv_freq)  # [T, Dh/2]
    emb = torch.cat((freqs, freqs), dim=-1)  # [T, Dh]
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [B, H, T, Dh]; cos/sin [T, Dh]."""
    return x * cos + rotate_half(x) * sin


def eager_attention(q, k, v):
    """Reference causal attention. q [B,H,T,Dh], k/v [B,K,T,Dh] -> [B,H,T,Dh]."""
    rep = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    T = q.shape[2]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])  # [B,H,T,T]
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    scores = scores.masked_fill(~mask, float("-inf"))
    probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
    return probs @ v


def sdpa_attention(q, k, v):
    """torch SDPA; enable_gqa (torch >= 2.5) reads the shared KV heads without copying them."""
    if q.shape[1] == k.shape[1]:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    try:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    except (TypeError, RuntimeError):  # older torch, or a backend without GQA support
        rep = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.wq = nn.Linear(cfg.dim, cfg.n_heads * cfg.head_dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wo = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.dim, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.wq(x).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.wk(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.wv(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        impl = self.cfg.attention
        if impl == "triton":
            if triton_usable(q, "attention"):
                from lang1core.kernels.flash_attention import flash_attention

                out = flash_attention(q, k, v, causal=True)
            else:
                out = sdpa_attention(q, k, v)
        elif impl == "sdpa":
            out = sdpa_attention(q, k, v)
        else:
            out = eager_attention(q, k, v)
        return self.wo(out.transpose(1, 2).reshape(B, T, -1))


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) * w3 x) (w1 = gate, w3 = up, w2 = down)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.w1 = nn.Linear(cfg.dim, cfg.hidden_dim, bias=False)
        self.w3 = nn.Linear(cfg.dim, cfg.hidden_dim, bias=False)
        self.w2 = nn.Linear(cfg.hidden_dim, cfg.dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        use_triton = cfg.attention == "triton"
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps, use_triton)
        self.attn = Attention(cfg)
        self.mlp_norm = RMSNorm(cfg.dim, cfg.norm_eps, use_triton)
        self.mlp = FeedForward(cfg)

    def forward(self, x, cos, sin):
        x = x + self.attn(self.attn_norm(x), cos, sin)
        return x + self.mlp(self.mlp_norm(x))


class Llama(nn.Module):
    """Decoder-only Llama. `.blocks` is a ModuleList so FSDP can wrap block by block."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.tok_embeddings = nn.Embedding(config.vocab_size, config.dim)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = RMSNorm(config.dim, config.norm_eps, config.attention == "triton")
        self.output = nn.Linear(config.dim, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.output.weight = self.tok_embeddings.weight

    # ------------------------------------------------------------------ forward paths
    # Everything goes through forward() (hidden() and loss() call self(...)) so that module
    # hooks, such as FSDP's parameter all-gather on the root module, run on every path.
    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None,
                ignore_index: int = -100, return_hidden: bool = False) -> torch.Tensor:
        """input_ids [B, T] -> logits [B, T, V]; with `labels` [B, T] -> mean CE (scalar);
        with return_hidden -> final-norm hidden states [B, T, D]."""
        h = self._hidden(input_ids)
        if return_hidden:
            return h
        if labels is None:
            return self.output(h)
        return self._loss(h, labels, ignore_index)

    def hidden(self, input_ids: torch.Tensor) -> torch.Tensor:
        """input_ids [B, T] -> final-norm hidden states [B, T, D]."""
        return self(input_ids, return_hidden=True)

    def loss(self, input_ids: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
        """Mean next-token cross-entropy over labels != ignore_index (labels already shifted)."""
        return self(input_ids, labels, ignore_index)

    def _hidden(self, input_ids: torch.Tensor) -> torch.Tensor:
        B, T = input_ids.shape
        if T > self.config.max_seq_len:
            warn_once(log, f"seq>{self.config.max_seq_len}",
                      f"sequence length {T} exceeds max_seq_len={self.config.max_seq_len}")
        h = self.tok_embeddings(input_ids)
        cos, sin = rotary_cos_sin(T, self.config.head_dim, self.config.rope_theta, h.device, h.dtype)
        for block in self.blocks:
            h = block(h, cos, sin)
        return self.norm(h)

    def _loss(self, h: torch.Tensor, labels: torch.Tensor, ignore_index: int) -> torch.Tensor:
        if self.config.loss == "fused" and triton_usable(h, "fused_linear_ce"):
            from lang1core.kernels.fused_linear_ce import fused_linear_cross_entropy

            return fused_linear_cross_entropy(
                h.reshape(-1, h.shape[-1]), self.output.weight, labels.reshape(-1), ignore_index=ignore_index
            )
        logits = self.output(h).float()
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=ignore_index)

    # ------------------------------------------------------------------ utilities
    @torch.no_grad()
    def init_weights(self, seed: int = 3407) -> None:
        """Normal(0, init_std) for embeddings and linears (output projections of each block
        scaled by 1/sqrt(2 * n_layers), GPT-2 style), ones for norms. Deterministic in `seed`
        and independent of parameter order; a no-op on meta tensors."""
        std = self.config.init_std
        out_std = std / math.sqrt(2 * self.config.n_layers)
        seen: set[int] = set()
        for i, (name, p) in enumerate(self.named_parameters()):
            if id(p) in seen or p.is_meta:
                continue
            seen.add(id(p))
            if name.endswith("norm.weight"):
                p.fill_(1.0)
                continue
            s = out_std if name.endswith(("attn.wo.weight", "mlp.w2.weight")) else std
            gen = torch.Generator(device="cpu").manual_seed(seed * 1_000_003 + _name_key(name))
            full = torch.empty(p.shape, dtype=torch.float32).normal_(0.0, s, generator=gen)
            _copy_full(p, full)

    def materialize(self, device: str | torch.device, seed: int = 3407) -> "Llama":
        """Allocate a meta-device model (or one already sharded by FSDP) on `device` and
        initialise it: `with torch.device("meta"): m = Llama(cfg)`, shard, then
        `m.materialize("cuda", seed)`. Keeps a tied output projection tied."""
        self.to_empty(device=device)
        if self.config.tie_embeddings and self.output.weight is not self.tok_embeddings.weight:
            self.output.weight = self.tok_embeddings.weight
        self.init_weights(seed)
        return self

    def num_params(self, exclude_embeddings: bool = False) -> int:
        """Unique parameter count (tied weights counted once); works on the meta device."""
        seen: set[int] = set()
        n = 0
        for name, p in self.named_parameters():
            if id(p) in seen:
                continue
            seen.add(id(p))
            if exclude_embeddings and name.startswith("tok_embeddings"):
                continue
            n += p.numel()
        return n


def _copy_full(p: torch.Tensor, full: torch.Tensor) -> None:
    """Copy a full CPU tensor into `p`, which may be an FSDP2-sharded DTensor: every rank
    draws the same full tensor, so the result does not depend on the sharding."""
    try:
        from torch.distributed.tensor import DTensor, distribute_tensor
    except ImportError:  # pragma: no cover - very old torch
        DTensor = ()
    if DTensor and isinstance(p, DTensor):
        full = distribute_tensor(full.to(device=p.device_mesh.device_type, dtype=p.dtype),
                                 p.device_mesh, p.placements)
        p.copy_(full)
    else:
        p.copy_(full.to(device=p.device, dtype=p.dtype))


def _name_key(name: str) -> int:
    """Stable small integer from a parameter name (Python's hash() is salted per process)."""
    h = 0
    for ch in name.encode():
        h = (h * 131 + ch) % 1_000_000_007
    return h
