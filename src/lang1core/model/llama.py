"""Llama decoder, written to match Hugging Face `LlamaForCausalLM` exactly.

Shapes: B batch, T sequence, D model dim, H query heads, K key/value heads, Dh head dim,
V vocabulary. Rotary embeddings use the "rotate half" layout that Hugging Face checkpoints
store, so weights convert by renaming only (see `lang1core.model.hf`).

Implementation switches (`ModelConfig.attention`, `.norm`, `.loss`) pick the Triton kernels of
`lang1core.kernels` or PyTorch; the PyTorch paths are those kernels' own references (sdpa
aside), so a kernel and its fallback cannot drift apart. When a Triton kernel cannot run (no
GPU and not under TRITON_INTERPRET=1) the model falls back to PyTorch and logs it once.
Parallelism (FSDP, activation checkpointing, compile) is applied from outside
(`lang1core.train.parallel`).

Scoring continues from a key/value cache (`KVCache`): `model(ids, use_cache=True)` returns
(logits, cache) and `model(more_ids, past=cache)` runs more tokens after the cached ones, at
rotary positions that continue each row's own count of cached tokens. Rows may be right-padded
(`lengths`); padding keys are masked out of later passes, so a batch of prompts of different
lengths continues exactly as each prompt would alone.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# Modules, not names: the self-check's tests swap a kernel for a wrong one in its module.
from lang1core.kernels import flash_attention as fa
from lang1core.kernels import fused_linear_ce as ce
from lang1core.kernels import rmsnorm as rn
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
            return rn.rmsnorm(x, self.weight, self.eps)
        return rn.rmsnorm_reference(x, self.weight, self.eps)


def rotary_cos_sin(positions: int | torch.Tensor, head_dim: int, theta: float, device, dtype):
    """cos, sin for Hugging Face's default rope (no scaling): [T, Dh] for positions 0..T-1
    when `positions` is T, or [B, 1, T, Dh] for a [B, T] tensor of positions (per-row
    offsets after a cache)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=device, dtype=torch.int64).float() / head_dim))
    if isinstance(positions, int):
        positions = torch.arange(positions, device=device)
    freqs = positions.to(torch.float32)[..., None] * inv_freq  # [..., T, Dh/2]
    emb = torch.cat((freqs, freqs), dim=-1)  # [..., T, Dh]
    if emb.dim() == 3:
        emb = emb[:, None]  # [B, 1, T, Dh]: broadcasts over heads
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [B, H, T, Dh]; cos/sin [T, Dh] or [B, 1, T, Dh]."""
    return x * cos + rotate_half(x) * sin


def eager_attention(q, k, v, mask=None):
    """The kernel's PyTorch reference: causal (Tk = T) unless `mask` is given."""
    return fa.attention_reference(q, k, v, mask=mask)


def sdpa_attention(q, k, v, mask=None):
    """torch SDPA, causal or under `mask` (as attention_reference's); enable_gqa (torch >= 2.5)
    reads the shared KV heads without copying them."""
    kw = dict(attn_mask=mask, is_causal=mask is None)
    if q.shape[1] == k.shape[1]:
        return F.scaled_dot_product_attention(q, k, v, **kw)
    try:
        return F.scaled_dot_product_attention(q, k, v, enable_gqa=True, **kw)
    except (TypeError, RuntimeError):  # older torch, or a backend without GQA support
        rep = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        return F.scaled_dot_product_attention(q, k, v, **kw)


@dataclass
class KVCache:
    """Keys and values of the tokens run so far, to run more tokens after them.

    kv: per block (keys, values) [B, K, Tk, Dh], rotary already applied; valid: bool [B, Tk],
    False at padding. Row b's next token sits at rotary position valid[b].sum(), wherever
    padding lies in between."""

    kv: list[tuple[torch.Tensor, torch.Tensor]]
    valid: torch.Tensor

    @property
    def lengths(self) -> torch.Tensor:
        return self.valid.sum(1)

    def select(self, rows: torch.Tensor) -> "KVCache":
        """The cache of rows[0], rows[1], ... (rows may repeat: one prefix, many suffixes)."""
        return KVCache([(k[rows], v[rows]) for k, v in self.kv], self.valid[rows])


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.wq = nn.Linear(cfg.dim, cfg.n_heads * cfg.head_dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.wo = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.dim, bias=False)

    def forward(self, x, cos, sin, past=None, mask=None, present=None):
        """past: cached (keys, values) attended before x's tokens under `mask` (see
        Llama._hidden_cached); present: a list this block's (keys, values), past included,
        is appended to."""
        B, T, _ = x.shape
        q = self.wq(x).view(B, T, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.wk(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.wv(x).view(B, T, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        if past is not None:
            k, v = torch.cat((past[0], k), dim=2), torch.cat((past[1], v), dim=2)
        if present is not None:
            present.append((k, v))
        impl = self.cfg.attention
        if mask is not None:  # after a cache: the Triton kernel is causal-only, SDPA masks
            out = (eager_attention if impl == "eager" else sdpa_attention)(q, k, v, mask)
        elif impl == "triton":
            if triton_usable(q, "attention"):
                out = fa.flash_attention(q, k, v, causal=True)
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
        use_triton = cfg.norm == "triton"
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps, use_triton)
        self.attn = Attention(cfg)
        self.mlp_norm = RMSNorm(cfg.dim, cfg.norm_eps, use_triton)
        self.mlp = FeedForward(cfg)

    def forward(self, x, cos, sin, past=None, mask=None, present=None):
        x = x + self.attn(self.attn_norm(x), cos, sin, past, mask, present)
        return x + self.mlp(self.mlp_norm(x))


class Llama(nn.Module):
    """Decoder-only Llama. `.blocks` is a ModuleList so FSDP can wrap block by block."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.tok_embeddings = nn.Embedding(config.vocab_size, config.dim)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = RMSNorm(config.dim, config.norm_eps, config.norm == "triton")
        self.output = nn.Linear(config.dim, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.output.weight = self.tok_embeddings.weight

    # ------------------------------------------------------------------ forward paths
    # Everything goes through forward() (hidden() and loss() call self(...)) so that module
    # hooks, such as FSDP's parameter all-gather on the root module, run on every path.
    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None,
                ignore_index: int = -100, return_hidden: bool = False,
                past: KVCache | None = None, lengths: torch.Tensor | None = None,
                use_cache: bool = False):
        """input_ids [B, T] -> logits [B, T, V]; with `labels` [B, T] -> mean CE (scalar);
        with return_hidden -> final-norm hidden states [B, T, D].

        With use_cache or `past`: returns (logits or hidden states, KVCache of past + these
        tokens). input_ids then continue `past` (row b from rotary position
        past.lengths[b]); `lengths` [B] counts each row's real tokens (the rest is right
        padding, masked out of later passes; default: all real)."""
        if past is None and not use_cache:
            h = self._hidden(input_ids)
        else:
            h, cache = self._hidden_cached(input_ids, past, lengths)
        if return_hidden:
            out = h
        elif labels is None:
            out = self.output(h)
        else:
            out = self._loss(h, labels, ignore_index)
        return out if past is None and not use_cache else (out, cache)

    def hidden(self, input_ids: torch.Tensor) -> torch.Tensor:
        """input_ids [B, T] -> final-norm hidden states [B, T, D]."""
        return self(input_ids, return_hidden=True)

    def loss(self, input_ids: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
        """Mean next-token cross-entropy over labels != ignore_index (labels already shifted)."""
        return self(input_ids, labels, ignore_index)

    def _warn_length(self, T: int) -> None:
        if T > self.config.max_seq_len:
            warn_once(log, f"seq>{self.config.max_seq_len}",
                      f"sequence length {T} exceeds max_seq_len={self.config.max_seq_len}")

    def _hidden(self, input_ids: torch.Tensor) -> torch.Tensor:
        B, T = input_ids.shape
        self._warn_length(T)
        h = self.tok_embeddings(input_ids)
        cos, sin = rotary_cos_sin(T, self.config.head_dim, self.config.rope_theta, h.device, h.dtype)
        for block in self.blocks:
            h = block(h, cos, sin)
        return self.norm(h)

    def _hidden_cached(self, input_ids, past: KVCache | None, lengths):
        """_hidden after `past` (or from scratch), also returning the extended cache."""
        B, T = input_ids.shape
        dev = input_ids.device
        h = self.tok_embeddings(input_ids)
        new = torch.arange(T, device=dev)
        valid = (new < lengths.to(dev)[:, None]) if lengths is not None else \
            torch.ones(B, T, dtype=torch.bool, device=dev)
        present: list = []
        if past is None:
            # Plain causal attention: right padding is never seen by a real token.
            self._warn_length(T)
            cos, sin = rotary_cos_sin(T, self.config.head_dim, self.config.rope_theta, dev, h.dtype)
            for block in self.blocks:
                h = block(h, cos, sin, present=present)
            return self.norm(h), KVCache(present, valid)
        start = past.lengths  # [B]: the first new token's position in each row
        self._warn_length(int(start.max()) + T)
        cos, sin = rotary_cos_sin(start[:, None] + new, self.config.head_dim,
                                  self.config.rope_theta, dev, h.dtype)
        # A new token attends to the row's real cached tokens and causally to the new ones.
        causal = torch.ones(T, T, dtype=torch.bool, device=dev).tril()
        Tp = past.valid.shape[1]
        mask = torch.cat((past.valid[:, None, None, :].expand(B, 1, T, Tp),
                          causal.expand(B, 1, T, T)), dim=-1)
        for block, kv in zip(self.blocks, past.kv):
            h = block(h, cos, sin, kv, mask, present)
        return self.norm(h), KVCache(present, torch.cat((past.valid, valid), dim=1))

    def _loss(self, h: torch.Tensor, labels: torch.Tensor, ignore_index: int) -> torch.Tensor:
        loss = (ce.fused_linear_cross_entropy if self.config.loss == "fused" and triton_usable(h, "fused_linear_ce")
                else ce.linear_cross_entropy_reference)
        return loss(h.reshape(-1, h.shape[-1]), self.output.weight, labels.reshape(-1), ignore_index=ignore_index)

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
