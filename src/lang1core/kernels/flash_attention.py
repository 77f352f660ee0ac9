"""Causal flash attention, forward and backward, with grouped-query attention.

Algorithm: FlashAttention-2 (Dao 2023). Forward: one program per (query block, batch*head)
streams key/value blocks up to the diagonal, keeping a running max m, normaliser l and
output accumulator (online softmax, base-2 exponentials with the scale folded in); it stores
O and the row log-sum-exp L (base 2) for the backward. Backward: delta = rowsum(dO * O)
(PyTorch), then
  - dK/dV: one program per (key block, batch*kv_head) loops over the query heads of its group
    and the query blocks at or below the diagonal, so GQA needs no atomics;
  - dQ: one program per (query block, batch*head) loops over key blocks up to the diagonal.
Shapes: q [B, H, T, Dh], k/v [B, K, T, Dh] with H % K == 0 (query head h reads kv head
h // (H/K), the layout of Hugging Face's repeat_kv), Dh in {16, 32, 64, 128}. Softmax scale
1/sqrt(Dh). Sources: the Triton fused-attention tutorial and the FlashAttention-2 paper.
"""

from __future__ import annotations

import math
import os

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - the model falls back to PyTorch
    triton = None

LOG2E = 1.4426950408889634


if triton is not None:

    @triton.jit
    def _fwd_inner(acc, l_i, m_i, q, k_base, v_base, skt, svt, offs_m, offs_n, offs_d, lo, hi, T, qk_scale,
                   BLOCK_N: tl.constexpr, MASK: tl.constexpr):
        """Online softmax over key blocks [lo, hi); MASK applies causality and the length."""
        for start_n in range(lo, hi, BLOCK_N):
            cols = start_n + offs_n
            if MASK:
                kT = tl.load(k_base + cols[None, :] * skt + offs_d[:, None], mask=cols[None, :] < T, other=0.0)
                v = tl.load(v_base + cols[:, None] * svt + offs_d[None, :], mask=cols[:, None] < T, other=0.0)
            else:
                kT = tl.load(k_base + cols[None, :] * skt + offs_d[:, None])
                v = tl.load(v_base + cols[:, None] * svt + offs_d[None, :])
            s = tl.dot(q, kT) * qk_scale  # [M, N], base-2 logits
            if MASK:
                keep = (offs_m[:, None] >= cols[None, :]) & (cols[None, :] < T)
                s = tl.where(keep, s, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, 1))  # finite: key 0 is visible to every row
            p = tl.math.exp2(s - m_new[:, None])
            alpha = tl.math.exp2(m_i - m_new)
            l_i = l_i * alpha + tl.sum(p, 1)
            acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
            m_i = m_new
        return acc, l_i, m_i

    @triton.jit
    def _attn_fwd(Q, K, V, O, LSE,  # noqa: E741 - O is the output, in the paper's notation
                  sqb, sqh, sqt, skb, skh, skt, svb, svh, svt, sob, soh, sot,
                  H, GROUP, T, qk_scale,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr):
        pid_m = tl.program_id(0)
        pid_bh = tl.program_id(1)
        b = pid_bh // H
        h = pid_bh % H
        kh = h // GROUP
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, HEAD_DIM)
        q_base = Q + b.to(tl.int64) * sqb + h.to(tl.int64) * sqh
        k_base = K + b.to(tl.int64) * skb + kh.to(tl.int64) * skh
        v_base = V + b.to(tl.int64) * svb + kh.to(tl.int64) * svh
        q = tl.load(q_base + offs_m[:, None] * sqt + offs_d[None, :], mask=offs_m[:, None] < T, other=0.0)
        m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
        l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
        acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
        # key blocks entirely below the diagonal need no mask (BLOCK_M % BLOCK_N == 0)
        diag = pid_m * BLOCK_M
        acc, l_i, m_i = _fwd_inner(acc, l_i, m_i, q, k_base, v_base, skt, svt, offs_m, offs_n, offs_d,
                                   0, diag, T, qk_scale, BLOCK_N, False)
        hi = tl.minimum((pid_m + 1) * BLOCK_M, T)  # causal: no key beyond the block's last query
        acc, l_i, m_i = _fwd_inner(acc, l_i, m_i, q, k_base, v_base, skt, svt, offs_m, offs_n, offs_d,
                                   diag, hi, T, qk_scale, BLOCK_N, True)
        acc = acc / l_i[:, None]
        o_base = O + b.to(tl.int64) * sob + h.to(tl.int64) * soh
        tl.store(o_base + offs_m[:, None] * sot + offs_d[None, :], acc.to(O.dtype.element_ty),
                 mask=offs_m[:, None] < T)
        tl.store(LSE + pid_bh.to(tl.int64) * T + offs_m, m_i + tl.math.log2(l_i), mask=offs_m < T)

    @triton.jit
    def _dkdv_inner(dk, dv, k, v, q_base, do_base, LSE_row, DELTA_row, sqt, sdot, offs_n, offs_d, lo, hi, T,
                    qk_scale, BLOCK_M: tl.constexpr, MASK: tl.constexpr):
        """Accumulate dK, dV [N, Dh] over query blocks [lo, hi) of one query head. Rows past T
        load zeros (q, dO, L, delta = 0), which makes their terms vanish without a mask."""
        for start_m in range(lo, hi, BLOCK_M):
            offs_m = start_m + tl.arange(0, BLOCK_M)
            mmask = offs_m < T
            q = tl.load(q_base + offs_m[:, None] * sqt + offs_d[None, :], mask=mmask[:, None], other=0.0)
            do = tl.load(do_base + offs_m[:, None] * sdot + offs_d[None, :], mask=mmask[:, None], other=0.0)
            lse = tl.load(LSE_row + offs_m, mask=mmask, other=0.0)
            delta = tl.load(DELTA_row + offs_m, mask=mmask, other=0.0)
            sT = tl.dot(k, tl.trans(q)) * qk_scale  # [N, M]
            pT = tl.math.exp2(sT - lse[None, :])
            if MASK:
                keep = (offs_m[None, :] >= offs_n[:, None]) & mmask[None, :]
                pT = tl.where(keep, pT, 0.0)
            dv += tl.dot(pT.to(do.dtype), do)
            dpT = tl.dot(v, tl.trans(do))  # [N, M]
            dsT = pT * (dpT - delta[None, :])
            dk += tl.dot(dsT.to(q.dtype), q)
        return dk, dv

    @triton.jit
    def _dq_inner(dq, q, do, lse, delta, k_base, v_base, skt, svt, offs_m, offs_n, offs_d, lo, hi, T, qk_scale,
                  BLOCK_N: tl.constexpr, MASK: tl.constexpr):
        """Accumulate dQ [M, Dh] over key blocks [lo, hi)."""
        for start_n in range(lo, hi, BLOCK_N):
            cols = start_n + offs_n
            if MASK:
                k = tl.load(k_base + cols[:, None] * skt + offs_d[None, :], mask=cols[:, None] < T, other=0.0)
                v = tl.load(v_base + cols[:, None] * svt + offs_d[None, :], mask=cols[:, None] < T, other=0.0)
            else:
                k = tl.load(k_base + cols[:, None] * skt + offs_d[None, :])
                v = tl.load(v_base + cols[:, None] * svt + offs_d[None, :])
            s = tl.dot(q, tl.trans(k)) * qk_scale  # [M, N]
            p = tl.math.exp2(s - lse[:, None])
            if MASK:
                keep = (offs_m[:, None] >= cols[None, :]) & (cols[None, :] < T)
                p = tl.where(keep, p, 0.0)
            dp = tl.dot(do, tl.trans(v))
            ds = p * (dp - delta[:, None])
            dq += tl.dot(ds.to(k.dtype), k)
        return dq

    @triton.jit
    def _attn_bwd_dkdv(Q, K, V, DO, LSE, DELTA, DK, DV,
                       sqb, sqh, sqt, skb, skh, skt, svb, svh, svt, sdob, sdoh, sdot,
                       sdkb, sdkh, sdkt, sdvb, sdvh, sdvt,
                       H, KH, GROUP, T, qk_scale, sm_scale,
                       BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr):
        pid_n = tl.program_id(0)
        pid_bk = tl.program_id(1)
        b = pid_bk // KH
        kh = pid_bk % KH
        offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, HEAD_DIM)
        nmask = offs_n[:, None] < T
        k = tl.load(K + b.to(tl.int64) * skb + kh.to(tl.int64) * skh + offs_n[:, None] * skt + offs_d[None, :],
                    mask=nmask, other=0.0)
        v = tl.load(V + b.to(tl.int64) * svb + kh.to(tl.int64) * svh + offs_n[:, None] * svt + offs_d[None, :],
                    mask=nmask, other=0.0)
        dk = tl.zeros([BLOCK_N, HEAD_DIM], dtype=tl.float32)
        dv = tl.zeros([BLOCK_N, HEAD_DIM], dtype=tl.float32)
        lo = (pid_n * BLOCK_N // BLOCK_M) * BLOCK_M  # causal: queries before the block see none of it
        # query blocks overlapping the diagonal need the causal mask; those after it do not
        diag_hi = tl.minimum(tl.cdiv((pid_n + 1) * BLOCK_N, BLOCK_M) * BLOCK_M, T)
        for g in range(0, GROUP):
            h = kh * GROUP + g
            q_base = Q + b.to(tl.int64) * sqb + h.to(tl.int64) * sqh
            do_base = DO + b.to(tl.int64) * sdob + h.to(tl.int64) * sdoh
            row_base = (b * H + h).to(tl.int64) * T
            dk, dv = _dkdv_inner(dk, dv, k, v, q_base, do_base, LSE + row_base, DELTA + row_base, sqt, sdot,
                                 offs_n, offs_d, lo, diag_hi, T, qk_scale, BLOCK_M, True)
            dk, dv = _dkdv_inner(dk, dv, k, v, q_base, do_base, LSE + row_base, DELTA + row_base, sqt, sdot,
                                 offs_n, offs_d, diag_hi, T, T, qk_scale, BLOCK_M, False)
        dk = dk * sm_scale
        tl.store(DK + b.to(tl.int64) * sdkb + kh.to(tl.int64) * sdkh + offs_n[:, None] * sdkt + offs_d[None, :],
                 dk.to(DK.dtype.element_ty), mask=nmask)
        tl.store(DV + b.to(tl.int64) * sdvb + kh.to(tl.int64) * sdvh + offs_n[:, None] * sdvt + offs_d[None, :],
                 dv.to(DV.dtype.element_ty), mask=nmask)

    @triton.jit
    def _attn_bwd_dq(Q, K, V, DO, LSE, DELTA, DQ,
                     sqb, sqh, sqt, skb, skh, skt, svb, svh, svt, sdob, sdoh, sdot, sdqb, sdqh, sdqt,
                     H, GROUP, T, qk_scale, sm_scale,
                     BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr):
        pid_m = tl.program_id(0)
        pid_bh = tl.program_id(1)
        b = pid_bh // H
        h = pid_bh % H
        kh = h // GROUP
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_n = tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, HEAD_DIM)
        mmask = offs_m < T
        q = tl.load(Q + b.to(tl.int64) * sqb + h.to(tl.int64) * sqh + offs_m[:, None] * sqt + offs_d[None, :],
                    mask=mmask[:, None], other=0.0)
        do = tl.load(DO + b.to(tl.int64) * sdob + h.to(tl.int64) * sdoh + offs_m[:, None] * sdot + offs_d[None, :],
                     mask=mmask[:, None], other=0.0)
        lse = tl.load(LSE + pid_bh.to(tl.int64) * T + offs_m, mask=mmask, other=0.0)
        delta = tl.load(DELTA + pid_bh.to(tl.int64) * T + offs_m, mask=mmask, other=0.0)
        k_base = K + b.to(tl.int64) * skb + kh.to(tl.int64) * skh
        v_base = V + b.to(tl.int64) * svb + kh.to(tl.int64) * svh
        dq = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
        diag = pid_m * BLOCK_M  # key blocks before it are fully visible (BLOCK_M % BLOCK_N == 0)
        dq = _dq_inner(dq, q, do, lse, delta, k_base, v_base, skt, svt, offs_m, offs_n, offs_d,
                       0, diag, T, qk_scale, BLOCK_N, False)
        hi = tl.minimum((pid_m + 1) * BLOCK_M, T)
        dq = _dq_inner(dq, q, do, lse, delta, k_base, v_base, skt, svt, offs_m, offs_n, offs_d,
                       diag, hi, T, qk_scale, BLOCK_N, True)
        dq = dq * sm_scale
        tl.store(DQ + b.to(tl.int64) * sdqb + h.to(tl.int64) * sdqh + offs_m[:, None] * sdqt + offs_d[None, :],
                 dq.to(DQ.dtype.element_ty), mask=mmask[:, None])


def _interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def _blocks(head_dim: int, kernel: str) -> tuple[int, int, int, int]:
    """(BLOCK_M, BLOCK_N, num_warps, num_stages) for kernel "fwd", "dkdv" or "dq".

    fwd and dq need BLOCK_M % BLOCK_N == 0 (key blocks left of the diagonal block are fully
    visible); dkdv takes any pair. Under the interpreter: small unequal blocks, so the tests
    cross block and diagonal boundaries both ways. On a GPU: the Triton fused-attention
    tutorial's H100 choices (fwd 128x64; bwd dK/dV 32x128 and dQ 128x32, 4 warps), with fewer
    pipeline stages at head dim 128 to stay inside shared memory (checked by
    tests/test_model_kernels.py, which compiles every configuration for sm_90)."""
    if _interpreting():
        return {"fwd": (32, 16, 4, 1), "dkdv": (16, 32, 4, 1), "dq": (32, 16, 4, 1)}[kernel]
    small = head_dim <= 64
    return {
        "fwd": (128, 64, 4, 3) if small else (128, 64, 8, 3),
        "dkdv": (32, 128, 4, 5) if small else (32, 128, 4, 3),
        "dq": (128, 32, 4, 5) if small else (128, 32, 4, 3),
    }[kernel]


def _check(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
    if q.ndim != 4 or k.shape != v.shape or k.ndim != 4:
        raise ValueError(f"flash_attention: q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}; "
                         "expected q [B, H, T, Dh] and k, v [B, K, T, Dh]")
    B, H, T, D = q.shape
    if k.shape[0] != B or k.shape[2] != T or k.shape[3] != D:
        raise ValueError(f"flash_attention: k {tuple(k.shape)} does not match q {tuple(q.shape)}")
    if H % k.shape[1]:
        raise ValueError(f"flash_attention: {H} query heads not divisible by {k.shape[1]} kv heads")
    if D not in (16, 32, 64, 128):
        raise ValueError(f"flash_attention: head dim {D} not supported; expected 16, 32, 64 or 128")


def _last_contig(t: torch.Tensor) -> torch.Tensor:
    return t if t.stride(-1) == 1 else t.contiguous()


def flash_attention_fwd(q, k, v):
    """-> o [B, H, T, Dh], lse [B, H, T] float32 (base 2)."""
    _check(q, k, v)
    q, k, v = _last_contig(q), _last_contig(k), _last_contig(v)
    B, H, T, D = q.shape
    KH = k.shape[1]
    o = torch.empty_like(q)
    lse = torch.empty(B, H, T, device=q.device, dtype=torch.float32)
    sm_scale = 1.0 / math.sqrt(D)
    BM, BN, warps, stages = _blocks(D, "fwd")
    _attn_fwd[(triton.cdiv(T, BM), B * H)](
        q, k, v, o, lse, *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *o.stride()[:3],
        H, H // KH, T, sm_scale * LOG2E, BLOCK_M=BM, BLOCK_N=BN, HEAD_DIM=D, num_warps=warps, num_stages=stages)
    return o, lse


def flash_attention_bwd(do, q, k, v, o, lse):
    do = _last_contig(do)
    B, H, T, D = q.shape
    KH = k.shape[1]
    delta = (do.float() * o.float()).sum(-1).contiguous()  # [B, H, T]
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    sm_scale = 1.0 / math.sqrt(D)
    BM, BN, warps, stages = _blocks(D, "dkdv")
    _attn_bwd_dkdv[(triton.cdiv(T, BN), B * KH)](
        q, k, v, do, lse, delta, dk, dv, *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *do.stride()[:3],
        *dk.stride()[:3], *dv.stride()[:3], H, KH, H // KH, T, sm_scale * LOG2E, sm_scale,
        BLOCK_M=BM, BLOCK_N=BN, HEAD_DIM=D, num_warps=warps, num_stages=stages)
    BM, BN, warps, stages = _blocks(D, "dq")
    _attn_bwd_dq[(triton.cdiv(T, BM), B * H)](
        q, k, v, do, lse, delta, dq, *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *do.stride()[:3],
        *dq.stride()[:3], H, H // KH, T, sm_scale * LOG2E, sm_scale,
        BLOCK_M=BM, BLOCK_N=BN, HEAD_DIM=D, num_warps=warps, num_stages=stages)
    return dq, dk, dv


class FlashAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v):
        q, k, v = _last_contig(q), _last_contig(k), _last_contig(v)
        o, lse = flash_attention_fwd(q, k, v)
        ctx.save_for_backward(q, k, v, o, lse)
        return o

    @staticmethod
    def backward(ctx, do):
        q, k, v, o, lse = ctx.saved_tensors
        return flash_attention_bwd(do, q, k, v, o, lse)


def flash_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = True) -> torch.Tensor:
    """Causal attention softmax(q k^T / sqrt(Dh)) v with GQA. q [B,H,T,Dh], k/v [B,K,T,Dh]."""
    if not causal:
        raise NotImplementedError("flash_attention: only causal attention is implemented")
    return FlashAttention.apply(q, k, v)


def attention_reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = True,
                        mask: torch.Tensor | None = None) -> torch.Tensor:
    """Pure-PyTorch reference (float32 throughout), same shapes and GQA layout: q [B,H,T,Dh],
    k/v [B,K,Tk,Dh] -> [B,H,T,Dh]. `mask` (bool [B,1,T,Tk], True where a query may attend,
    e.g. after a KV cache) replaces the causal mask."""
    rep = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    T = q.shape[2]
    s = (q.float() @ k.float().transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if mask is None and causal:
        mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))
    return (torch.softmax(s, dim=-1) @ v.float()).to(q.dtype)
