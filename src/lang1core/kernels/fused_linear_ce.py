"""Fused linear + cross-entropy: the loss and its gradients without the full logits tensor.

Algorithm (after Liger-Kernel's FusedLinearCrossEntropy, Hsu et al. 2024):
the N rows of hidden states h [N, D] are processed in chunks of C rows. For each chunk
    z = h_c @ W^T                              [C, V]  (the only logits ever held)
    Triton kernel, one program per row, two passes over V in blocks:
        lse = logsumexp(z)  (online max/sum);  loss_r = lse - z[y]
        z  <- (softmax(z) - onehot(y)) / n_valid   (written in place: dL/dz)
        rows whose label == ignore_index get loss 0 and gradient 0
    dh_c  = dz @ W                             [C, D]
    dW   += dz^T @ h_c                         [V, D]  (float32 accumulator)
so peak extra memory is C x V instead of N x V (plus its float32 copy and gradient in the
eager path). Gradients are computed in the forward pass; backward scales them by the incoming
gradient of the (scalar, mean) loss. Shapes: h [N, D], W [V, D], labels [N] int64.
"""

from __future__ import annotations

import math

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - the model falls back to PyTorch
    triton = None


if triton is not None:

    @triton.jit
    def _ce_fwd_bwd_rows(Z, stride_z, LABELS, LOSS, V, ignore_index, scale, BLOCK_V: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        z_ptr = Z + row * stride_z
        y = tl.load(LABELS + row)
        valid = y != ignore_index
        y_safe = tl.where(valid, y, 0)
        cols0 = tl.arange(0, BLOCK_V)
        # pass 1: online logsumexp over the vocabulary
        # masked lanes hold a large finite negative (not -inf, so no inf - inf = nan); a lane
        # that only ever saw masked entries gets weight exp(-1e30 - m_all) = 0 below
        m = tl.full([BLOCK_V], -1e30, tl.float32)
        d = tl.zeros([BLOCK_V], dtype=tl.float32)
        for off in range(0, V, BLOCK_V):
            cols = off + cols0
            z = tl.load(z_ptr + cols, mask=cols < V, other=-1e30).to(tl.float32)
            m_new = tl.maximum(m, z)
            d = d * tl.exp(m - m_new) + tl.exp(z - m_new)
            m = m_new
        m_all = tl.max(m, axis=0)
        d_all = tl.sum(d * tl.exp(m - m_all), axis=0)
        lse = m_all + tl.log(d_all)
        z_y = tl.load(z_ptr + y_safe).to(tl.float32)
        loss = tl.where(valid, lse - z_y, 0.0)
        s = tl.where(valid, scale, 0.0)
        # pass 2: dL/dz = (softmax - onehot) * scale, in place
        for off in range(0, V, BLOCK_V):
            cols = off + cols0
            cmask = cols < V
            z = tl.load(z_ptr + cols, mask=cmask, other=0.0).to(tl.float32)
            g = tl.exp(z - lse) * s
            g = tl.where(cols == y_safe, g - s, g)
            tl.store(z_ptr + cols, g.to(Z.dtype.element_ty), mask=cmask)
        tl.store(LOSS + row, loss)


def _chunk_rows(n: int, v: int, d: int) -> int:
    """Rows per chunk: make the chunk's logits about as large as h itself (Liger's rule)."""
    inc = max(1, math.ceil(v / d))
    return max(16, triton.next_power_of_2(math.ceil(n / inc)))


def fused_linear_ce_fwd(h: torch.Tensor, w: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100,
                        chunk_rows: int | None = None):
    """h [N, D], w [V, D], labels [N] -> (mean loss, dh [N, D], dw [V, D] | None)."""
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"fused_linear_ce: h {tuple(h.shape)} and W {tuple(w.shape)} must be [N, D] and [V, D]")
    if labels.shape != (h.shape[0],):
        raise ValueError(f"fused_linear_ce: labels {tuple(labels.shape)} must be [{h.shape[0]}]")
    N, D = h.shape
    V = w.shape[0]
    labels = labels.contiguous()
    valid = labels != ignore_index
    bad = valid & ((labels < 0) | (labels >= V))
    n_valid, n_bad = torch.stack([valid.sum(), bad.sum()]).tolist()  # one host sync
    if n_bad:
        raise ValueError(f"fused_linear_ce: label {int(labels[bad][0])} outside [0, {V}) and not ignore_index")
    scale = 1.0 / max(n_valid, 1)
    C = chunk_rows or _chunk_rows(N, V, D)
    loss_rows = torch.empty(N, device=h.device, dtype=torch.float32)
    dh = torch.empty_like(h) if h.requires_grad else None
    dw = torch.zeros(V, D, device=w.device, dtype=torch.float32) if w.requires_grad else None
    BLOCK_V = min(triton.next_power_of_2(V), 16384 if h.is_cuda else 1024)
    for start in range(0, N, C):
        end = min(start + C, N)
        hc = h[start:end]
        z = hc @ w.t()  # [C, V], the only logits held
        _ce_fwd_bwd_rows[(end - start,)](z, z.stride(0), labels[start:end], loss_rows[start:end], V,
                                         ignore_index, scale, BLOCK_V=BLOCK_V, num_warps=32 if h.is_cuda else 4)
        if dh is not None:
            torch.mm(z, w, out=dh[start:end])
        if dw is not None:
            if z.dtype == torch.float32:
                dw.addmm_(z.t(), hc)
            else:  # low-precision matmul, accumulated across chunks in float32
                dw.add_(z.t() @ hc)
    loss = loss_rows.sum() / n_valid if n_valid else loss_rows.sum() * float("nan")
    return loss, dh, (dw.to(w.dtype) if dw is not None else None)


class FusedLinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, w, labels, ignore_index, chunk_rows):
        loss, dh, dw = fused_linear_ce_fwd(h, w, labels, ignore_index, chunk_rows)
        ctx.save_for_backward(*(t for t in (dh, dw) if t is not None))
        ctx.has = (dh is not None, dw is not None)
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        saved = list(ctx.saved_tensors)
        # grad_loss is a 0-dim tensor, so the products keep dh's and dw's dtypes
        dh = saved.pop(0) * grad_loss if ctx.has[0] else None
        dw = saved.pop(0) * grad_loss if ctx.has[1] else None
        return dh, dw, None, None, None


def fused_linear_cross_entropy(h: torch.Tensor, w: torch.Tensor, labels: torch.Tensor, ignore_index: int = -100,
                               chunk_rows: int | None = None) -> torch.Tensor:
    """mean over labels != ignore_index of CE(h @ W^T, labels), without materialising h @ W^T.

    Under autocast the inputs are cast to the autocast dtype first, as a Linear's would be,
    and autocast is off inside: its matmuls then agree in dtype with the preallocated
    gradient buffers (autocast would make h @ W^T bfloat16 next to a float32 dh)."""
    dev = h.device.type
    if torch.is_autocast_enabled(dev):
        dt = torch.get_autocast_dtype(dev)
        with torch.autocast(dev, enabled=False):
            return FusedLinearCrossEntropy.apply(h.to(dt), w.to(dt), labels, ignore_index, chunk_rows)
    return FusedLinearCrossEntropy.apply(h, w, labels, ignore_index, chunk_rows)


def linear_cross_entropy_reference(h: torch.Tensor, w: torch.Tensor, labels: torch.Tensor,
                                   ignore_index: int = -100) -> torch.Tensor:
    """Pure-PyTorch reference: full logits, upcast to float32, mean CE."""
    logits = (h @ w.t()).float()
    return torch.nn.functional.cross_entropy(logits, labels, ignore_index=ignore_index)
