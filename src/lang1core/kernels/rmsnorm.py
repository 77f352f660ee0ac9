"""RMSNorm forward and backward in Triton.

Algorithm (Zhang & Sennrich 2019; Hugging Face LlamaRMSNorm numerics):
    r = 1 / sqrt(mean(x^2) + eps)            computed in float32, per row
    y = w * (x * r).to(x.dtype)
backward, with xh = x * r and g = dy * w:
    dx = r * (g - xh * mean(g * xh))
    dw = sum over rows of dy * xh
Shapes: x [..., N] (flattened to M rows of N), w [N]. One program normalises a strided set of
rows (grid-stride loop) and accumulates its partial dw, so dw needs no atomics; the partials
[G, N] are summed in PyTorch. Source: the Triton layer-norm tutorial, adapted to RMSNorm.
"""

from __future__ import annotations

import torch

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - the model falls back to PyTorch
    triton = None


if triton is not None:

    @triton.jit
    def _rmsnorm_fwd(X, W, Y, RSTD, stride_x, stride_y, M, N, eps, BLOCK_N: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)  # row * stride can pass 2**31 for long batches
        cols = tl.arange(0, BLOCK_N)
        mask = cols < N
        x = tl.load(X + row * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
        rstd = 1.0 / tl.sqrt(tl.sum(x * x, axis=0) / N + eps)
        w = tl.load(W + cols, mask=mask, other=0.0)
        xh = (x * rstd).to(Y.dtype.element_ty)
        y = (w.to(tl.float32) * xh.to(tl.float32)).to(Y.dtype.element_ty)
        tl.store(Y + row * stride_y + cols, y, mask=mask)
        tl.store(RSTD + row, rstd)

    @triton.jit
    def _rmsnorm_bwd(X, W, DY, DX, RSTD, DW_PARTIAL, stride_x, stride_dy, stride_dx, M, N,
                     BLOCK_N: tl.constexpr):
        pid = tl.program_id(0)
        n_prog = tl.num_programs(0)
        cols = tl.arange(0, BLOCK_N)
        mask = cols < N
        w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
        dw = tl.zeros([BLOCK_N], dtype=tl.float32)
        # walk the rows by pointer increments: 64-bit pointers, so row * stride never overflows
        x_ptr = X + pid.to(tl.int64) * stride_x
        dy_ptr = DY + pid.to(tl.int64) * stride_dy
        dx_ptr = DX + pid.to(tl.int64) * stride_dx
        for row in range(pid, M, n_prog):
            x = tl.load(x_ptr + cols, mask=mask, other=0.0).to(tl.float32)
            dy = tl.load(dy_ptr + cols, mask=mask, other=0.0).to(tl.float32)
            rstd = tl.load(RSTD + row)
            xh = x * rstd
            g = dy * w
            dx = rstd * (g - xh * (tl.sum(g * xh, axis=0) / N))
            tl.store(dx_ptr + cols, dx.to(DX.dtype.element_ty), mask=mask)
            dw += dy * xh
            x_ptr += n_prog * stride_x
            dy_ptr += n_prog * stride_dy
            dx_ptr += n_prog * stride_dx
        tl.store(DW_PARTIAL + pid * N + cols, dw, mask=mask)


def _rows(x: torch.Tensor) -> torch.Tensor:
    x2 = x.reshape(-1, x.shape[-1])
    return x2 if x2.stride(-1) == 1 else x2.contiguous()


def rmsnorm_fwd(x: torch.Tensor, w: torch.Tensor, eps: float):
    """x [..., N], w [N] -> y like x, rstd [M] float32."""
    if w.ndim != 1 or w.shape[0] != x.shape[-1]:
        raise ValueError(f"rmsnorm: weight shape {tuple(w.shape)} does not match x[..., {x.shape[-1]}]")
    x2 = _rows(x)
    M, N = x2.shape
    y = torch.empty_like(x2)
    rstd = torch.empty(M, device=x.device, dtype=torch.float32)
    BLOCK_N = triton.next_power_of_2(N)
    _rmsnorm_fwd[(M,)](x2, w, y, rstd, x2.stride(0), y.stride(0), M, N, eps,
                       BLOCK_N=BLOCK_N, num_warps=min(max(BLOCK_N // 256, 1), 16))
    return y.view(x.shape), rstd


def rmsnorm_bwd(dy: torch.Tensor, x: torch.Tensor, w: torch.Tensor, rstd: torch.Tensor):
    x2, dy2 = _rows(x), _rows(dy)
    M, N = x2.shape
    dx = torch.empty_like(x2)
    if x.is_cuda:
        n_prog = min(M, 4 * torch.cuda.get_device_properties(x.device).multi_processor_count)
    else:
        n_prog = min(M, 4)
    n_prog = max(n_prog, 1)
    partial = torch.empty(n_prog, N, device=x.device, dtype=torch.float32)
    BLOCK_N = triton.next_power_of_2(N)
    _rmsnorm_bwd[(n_prog,)](x2, w, dy2, dx, rstd, partial, x2.stride(0), dy2.stride(0), dx.stride(0),
                            M, N, BLOCK_N=BLOCK_N, num_warps=min(max(BLOCK_N // 256, 1), 16))
    return dx.view(x.shape), partial.sum(0).to(w.dtype)


class RMSNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, eps):
        y, rstd = rmsnorm_fwd(x, w, eps)
        ctx.save_for_backward(x, w, rstd)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, w, rstd = ctx.saved_tensors
        dx, dw = rmsnorm_bwd(dy, x, w, rstd)
        return dx, dw, None


def rmsnorm(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Triton RMSNorm over the last dimension (differentiable in x and w)."""
    return RMSNormFunction.apply(x, w, eps)


def rmsnorm_reference(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Pure-PyTorch reference with Hugging Face LlamaRMSNorm numerics."""
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return w * h.to(x.dtype)
