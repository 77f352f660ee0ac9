"""Each Triton kernel against its PyTorch reference: every output and every gradient.

Shared by the kernel tests (tests/kernel_checks.py, CPU interpreter), the GPU readiness
check (bench/gpu_check.py) and the runtime self-check before a run uses a kernel
(lang1core.model.selfcheck). A comparison runs the kernel on inputs of the run's dtype,
optionally under bfloat16 autocast as the trainer does, and the reference in float32 on
float32 copies of the same inputs, so the reference's gradients are not rounded.

Errors are reported per quantity as max |kernel - reference| and judged relative to the
reference's max |value| of that quantity, so a gradient a thousand times smaller than the
loss is held to the same standard as the loss.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import torch

# Largest allowed max-abs error as a share of the reference's max |value|, by input dtype.
# float32: on a GPU tl.dot rounds its operands to TF32 (10-bit mantissa), ~1e-3 relative;
# float16 (10-bit mantissa) and bfloat16 (7-bit) add the rounding of inputs and outputs.
# A wrong kernel (a dropped block, a mask off by one, a wrong scale) errs by O(1) relatively.
TOLERANCE = {torch.float32: 5e-3, torch.float16: 1e-2, torch.bfloat16: 4e-2}


@dataclass
class Comparison:
    """One kernel call against its reference."""

    kernel: str  # attention | rmsnorm | fused_linear_ce
    setting: str  # shapes and dtype, e.g. "b=2 h=8 kv=2 t=1023 d=64 bfloat16"
    dtype: torch.dtype
    errors: dict[str, float] = field(default_factory=dict)  # quantity -> max abs error
    scales: dict[str, float] = field(default_factory=dict)  # quantity -> reference max |value|

    @property
    def tolerance(self) -> float:
        return TOLERANCE[self.dtype]

    def relative(self) -> dict[str, float]:
        return {q: e / max(self.scales[q], 1e-12) for q, e in self.errors.items()}

    @property
    def worst(self) -> tuple[str, float]:
        """(quantity, relative error) of the worst quantity; NaN counts as worst."""
        rel = self.relative()
        return max(rel.items(), key=lambda kv: math.inf if math.isnan(kv[1]) else kv[1])

    @property
    def ok(self) -> bool:
        return all(r <= self.tolerance for r in self.relative().values())  # False on NaN

    def to_dict(self) -> dict:
        q, rel = self.worst
        return {"kernel": self.kernel, "setting": self.setting, "ok": self.ok,
                "worst": q, "relative_error": rel, "tolerance": self.tolerance,
                "errors": self.errors, "scales": self.scales}


def _maxabs(t: torch.Tensor) -> float:
    return t.detach().float().abs().max().item()


def _record(c: Comparison, name: str, got: torch.Tensor, ref: torch.Tensor) -> None:
    c.errors[name] = _maxabs(got.float() - ref.float())
    c.scales[name] = _maxabs(ref)


def _autocast(device: torch.device, enabled: bool):
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def _leaf(t: torch.Tensor) -> torch.Tensor:
    """A float32 copy that is its own autograd leaf (for the reference)."""
    return t.detach().float().requires_grad_(t.requires_grad)


def compare_attention(b: int, h: int, kv: int, t: int, d: int, *, dtype=torch.float32,
                      device="cpu", autocast: bool = False, seed: int = 0) -> Comparison:
    """flash_attention (causal, GQA) forward and its dQ, dK, dV."""
    from lang1core.kernels import flash_attention as fa

    device = torch.device(device)
    g = torch.Generator(device="cpu").manual_seed(seed)

    def rand(*shape):
        return torch.randn(*shape, generator=g).to(device=device, dtype=dtype).requires_grad_()

    q, k, v = rand(b, h, t, d), rand(b, kv, t, d), rand(b, kv, t, d)
    do = torch.randn(b, h, t, d, generator=g).to(device=device, dtype=dtype)
    c = Comparison("attention", f"b={b} h={h} kv={kv} t={t} d={d} {_precision(dtype, autocast)}",
                   _judged(dtype, autocast))
    with _autocast(device, autocast):
        o = fa.flash_attention(q, k, v)
    grads = torch.autograd.grad(o, (q, k, v), do)
    qf, kf, vf = _leaf(q), _leaf(k), _leaf(v)
    ref = fa.attention_reference(qf, kf, vf)
    ref_grads = torch.autograd.grad(ref, (qf, kf, vf), do.float())
    _record(c, "o", o, ref)
    for name, got, want in zip(("dq", "dk", "dv"), grads, ref_grads):
        _record(c, name, got, want)
    return c


def compare_rmsnorm(shape: tuple[int, ...], *, dtype=torch.float32, device="cpu",
                    autocast: bool = False, eps: float = 1e-5, seed: int = 0) -> Comparison:
    """rmsnorm forward and its dx, dw; the weight is not all ones so dw and w both matter."""
    from lang1core.kernels import rmsnorm as rn

    device = torch.device(device)
    g = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn(*shape, generator=g).to(device=device, dtype=dtype).requires_grad_()
    w = (torch.rand(shape[-1], generator=g) + 0.5).to(device=device, dtype=dtype).requires_grad_()
    dy = torch.randn(*shape, generator=g).to(device=device, dtype=dtype)
    c = Comparison("rmsnorm", f"shape={'x'.join(map(str, shape))} {_precision(dtype, autocast)}",
                   _judged(dtype, autocast))
    with _autocast(device, autocast):
        y = rn.rmsnorm(x, w, eps)
    gx, gw = torch.autograd.grad(y, (x, w), dy)
    xf, wf = _leaf(x), _leaf(w)
    ref = rn.rmsnorm_reference(xf, wf, eps)
    rx, rw = torch.autograd.grad(ref, (xf, wf), dy.float())
    _record(c, "y", y, ref)
    _record(c, "dx", gx, rx)
    _record(c, "dw", gw, rw)
    return c


def compare_fused_linear_ce(n: int, d: int, v: int, *, dtype=torch.float32, device="cpu",
                            autocast: bool = False, chunk_rows: int | None = None,
                            w_grad: bool = True, ignore_index: int = -100,
                            seed: int = 0) -> Comparison:
    """fused_linear_cross_entropy's mean loss and its dh (and dW when w_grad); some rows
    carry ignore_index and one the last vocabulary entry (the end of the last block)."""
    from lang1core.kernels import fused_linear_ce as ce

    device = torch.device(device)
    g = torch.Generator(device="cpu").manual_seed(seed)
    h = torch.randn(n, d, generator=g).to(device=device, dtype=dtype).requires_grad_()
    w = (0.1 * torch.randn(v, d, generator=g)).to(device=device, dtype=dtype).requires_grad_(w_grad)
    y = torch.randint(0, v, (n,), generator=g)
    y[: min(n // 7, 20)] = ignore_index
    y[-1] = v - 1
    y = y.to(device)
    c = Comparison("fused_linear_ce", f"n={n} d={d} v={v} chunk={chunk_rows} {_precision(dtype, autocast)}",
                   _judged(dtype, autocast))
    inputs = (h, w) if w_grad else (h,)
    with _autocast(device, autocast):
        loss = ce.fused_linear_cross_entropy(h, w, y, ignore_index=ignore_index, chunk_rows=chunk_rows)
    grads = torch.autograd.grad(loss * 2.5, inputs)  # a non-unit upstream gradient
    hf, wf = _leaf(h), _leaf(w)
    ref = ce.linear_cross_entropy_reference(hf, wf, y, ignore_index=ignore_index)
    ref_grads = torch.autograd.grad(ref * 2.5, (hf, wf) if w_grad else (hf,))
    _record(c, "loss", loss, ref)
    for name, got, want in zip(("dh", "dw"), grads, ref_grads):
        _record(c, name, got, want)
    return c


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _precision(dtype: torch.dtype, autocast: bool) -> str:
    return _name(dtype) + (" bf16-autocast" if autocast else "")


def _judged(dtype: torch.dtype, autocast: bool) -> torch.dtype:
    """The dtype whose tolerance applies: autocast runs the matmuls in bfloat16."""
    return torch.bfloat16 if autocast else dtype


# --- the GPU readiness suite (bench/gpu_check.py) ---------------------------------------------
# (b, h, kv, t, d): GQA ratios 8, 4, 2 and 1, head dims 64 and 128, lengths that are not
# multiples of any block size, a single token, and 4096.
GPU_ATTENTION = [(2, 8, 1, 1023, 64), (2, 8, 2, 1023, 128), (1, 8, 4, 4096, 64), (1, 8, 2, 4096, 128),
                 (3, 4, 4, 257, 64), (2, 4, 2, 1, 128)]
GPU_RMSNORM = [(4, 1023, 2048), (3, 77, 768), (2, 517, 4096)]
# (n, d, v, chunk_rows, w_grad): TinyLlama's and smol's shapes with the 32k vocabulary
GPU_FUSED_CE = [(4097, 2048, 32000, None, True), (1000, 768, 32000, 256, True), (777, 2048, 32000, None, False)]
QUICK_ATTENTION = [(2, 4, 2, 257, 64), (1, 4, 1, 129, 128)]
QUICK_RMSNORM = [(3, 77, 768)]
QUICK_FUSED_CE = [(300, 256, 5000, 64, True)]
# the interpreter runs every program serially on the CPU: tiny shapes that still cross block
# and diagonal boundaries (interpreter blocks are 32x16 and 16x32)
CPU_ATTENTION = [(2, 4, 2, 47, 64), (1, 2, 1, 33, 32)]
CPU_RMSNORM = [(3, 47, 72)]
CPU_FUSED_CE = [(141, 40, 1000, 32, True)]


def suite(device, dtype: torch.dtype, size: str = "gpu"):
    """Every kernel at the suite's shapes: yields one callable per comparison (so a caller
    can time, report or survive each on its own): size "gpu", "quick" (a
    smoke test of the GPU suite) or "cpu" (interpreter-sized)."""
    att, rms, ce = {"gpu": (GPU_ATTENTION, GPU_RMSNORM, GPU_FUSED_CE),
                    "quick": (QUICK_ATTENTION, QUICK_RMSNORM, QUICK_FUSED_CE),
                    "cpu": (CPU_ATTENTION, CPU_RMSNORM, CPU_FUSED_CE)}[size]
    for s in att:
        yield lambda s=s: compare_attention(*s, dtype=dtype, device=device)
    for s in rms:
        yield lambda s=s: compare_rmsnorm(s, dtype=dtype, device=device)
    for n, d, v, c, wg in ce:
        yield lambda n=n, d=d, v=v, c=c, wg=wg: compare_fused_linear_ce(n, d, v, dtype=dtype, device=device,
                                                                        chunk_rows=c, w_grad=wg)
