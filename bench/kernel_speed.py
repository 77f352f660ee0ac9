"""Benchmark the Triton kernels against PyTorch.

    python bench/kernel_speed.py            # all three
    python bench/kernel_speed.py attention  # or: ce, rmsnorm

- attention: causal forward and forward+backward TFLOP/s, ours vs torch SDPA (its default
  choice and, one at a time, its flash and cuDNN backends), at batch 8, 32 heads, 4 KV heads,
  sequence 2048, head dims 64 and 128, bfloat16 (goal: fwd+bwd >= 1.0x SDPA's default). SDPA
  reads the shared KV heads with enable_gqa; a backend without GQA gets them expanded outside
  the timed region. FLOPs count the causal half only: fwd 2 matmuls * 2*B*H*T*T*D / 2, bwd
  2.5x fwd.
- ce: fused linear cross-entropy vs eager (logits -> float32 -> F.cross_entropy) and vs the
  same eager code under torch.compile, forward + backward at 16,384 tokens, hidden 2048,
  vocabulary 32,000, bf16: peak memory above the inputs and time (goals against eager:
  <= 0.35x the memory at <= 1.2x the time).
- rmsnorm: forward+backward GB/s, ours vs the PyTorch reference, 16,384 x 2048 bf16.

The measuring functions return their figures; bench/gpu_check.py reuses them. Needs a CUDA
GPU; on a CPU-only machine it says so and exits 0 (the Triton interpreter is a correctness
tool, not a performance one).
"""

from __future__ import annotations

import sys

import torch

ATTENTION_IMPLS = ("triton", "sdpa", "sdpa-flash", "sdpa-cudnn")
CE_IMPLS = ("fused", "eager", "compiled")


def bench(fn, warmup: int = 5, reps: int = 20) -> float:
    """Median milliseconds of fn() (CUDA events)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def attention_flops(B, H, T, D) -> tuple[float, float]:
    """(forward, forward+backward) FLOPs of causal attention."""
    fwd = 2 * 2 * B * H * T * T * D / 2
    return fwd, 3.5 * fwd


def _sdpa(impl: str, q, k, v):
    """A callable f(q, k, v) for SDPA with `impl`'s backend, plus k, v as it needs them."""
    import contextlib

    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    ctx = {"sdpa": contextlib.nullcontext, "sdpa-flash": lambda: sdpa_kernel(SDPBackend.FLASH_ATTENTION),
           "sdpa-cudnn": lambda: sdpa_kernel(SDPBackend.CUDNN_ATTENTION)}[impl]

    def gqa(q, k, v):
        with ctx():
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)

    def expanded(q, k, v):
        with ctx():
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    try:
        gqa(q, k, v)
        return gqa, k, v, ""
    except (RuntimeError, TypeError):  # a backend without GQA (or an old torch)
        r = q.shape[1] // k.shape[1]
        k2 = k.detach().repeat_interleave(r, 1).requires_grad_()
        v2 = v.detach().repeat_interleave(r, 1).requires_grad_()
        expanded(q, k2, v2)  # raises when the backend cannot run at all
        return expanded, k2, v2, "kv expanded"


def measure_attention(B=8, H=32, KH=4, T=2048, D=64, dtype=torch.bfloat16, impls=ATTENTION_IMPLS,
                      reps: int = 20) -> dict:
    """{impl: {fwd_ms, fwdbwd_ms, fwd_tflops, fwdbwd_tflops, max_diff, note} or {error}};
    max_diff is the largest |output - SDPA default's output|."""
    from lang1core.kernels.flash_attention import flash_attention

    g = torch.Generator(device="cuda").manual_seed(0)
    q = torch.randn(B, H, T, D, device="cuda", dtype=dtype, generator=g).requires_grad_()
    k = torch.randn(B, KH, T, D, device="cuda", dtype=dtype, generator=g).requires_grad_()
    v = torch.randn(B, KH, T, D, device="cuda", dtype=dtype, generator=g).requires_grad_()
    do = torch.randn_like(q)
    fwd_flops, total = attention_flops(B, H, T, D)
    with torch.no_grad():
        base = _sdpa("sdpa", q, k, v)[0](q, k, v).float()
    out = {}
    for impl in impls:
        try:
            if impl == "triton":
                f, kk, vv, note = flash_attention, k, v, ""
            else:
                f, kk, vv, note = _sdpa(impl, q, k, v)
        except RuntimeError as err:
            out[impl] = {"error": str(err).splitlines()[0][:120]}
            continue

        def step():
            q.grad = kk.grad = vv.grad = None
            f(q, kk, vv).backward(do)

        with torch.no_grad():
            diff = (f(q, kk, vv).float() - base).abs().max().item()
        ms_fwd = bench(lambda: f(q, kk, vv), reps=reps)
        ms = bench(step, reps=reps)
        out[impl] = {"fwd_ms": ms_fwd, "fwdbwd_ms": ms, "fwd_tflops": fwd_flops / ms_fwd / 1e9,
                     "fwdbwd_tflops": total / ms / 1e9, "max_diff": diff, "note": note}
    return out


def measure_cross_entropy(N=16384, D=2048, V=32000, dtype=torch.bfloat16, impls=CE_IMPLS, reps: int = 10) -> dict:
    """{impl: {peak_mib, ms, loss}}: peak memory above the inputs (the two gradients
    included) and median time of forward+backward."""
    from lang1core.kernels.fused_linear_ce import fused_linear_cross_entropy, linear_cross_entropy_reference

    g = torch.Generator(device="cuda").manual_seed(0)
    h = torch.randn(N, D, device="cuda", dtype=dtype, generator=g).requires_grad_()
    w = (0.02 * torch.randn(V, D, device="cuda", generator=g)).to(dtype).requires_grad_()
    y = torch.randint(0, V, (N,), device="cuda", generator=g)
    fns = {"fused": fused_linear_cross_entropy, "eager": linear_cross_entropy_reference,
           "compiled": torch.compile(linear_cross_entropy_reference)}
    out = {}
    for impl in impls:
        f = fns[impl]

        def step():
            h.grad = w.grad = None
            loss = f(h, w, y)
            loss.backward()
            return loss

        step()  # warm-up (Triton or inductor compilation, allocator)
        h.grad = w.grad = None
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()  # inputs only
        loss = step()
        torch.cuda.synchronize()
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
        out[impl] = {"peak_mib": peak, "ms": bench(step, warmup=2, reps=reps), "loss": loss.item()}
    return out


def measure_rmsnorm(M=16384, N=2048, dtype=torch.bfloat16) -> dict:
    """{impl: {ms, gb_s}} for forward+backward."""
    from lang1core.kernels.rmsnorm import rmsnorm as ours
    from lang1core.kernels.rmsnorm import rmsnorm_reference

    x = torch.randn(M, N, device="cuda", dtype=dtype, requires_grad=True)
    w = torch.ones(N, device="cuda", dtype=dtype, requires_grad=True)
    dy = torch.randn_like(x)
    nbytes = 5 * x.numel() * x.element_size()  # read x (twice), dy; write y, dx
    out = {}
    for name, f in (("triton", ours), ("torch", rmsnorm_reference)):
        def step():
            x.grad = w.grad = None
            f(x, w, 1e-5).backward(dy)
        ms = bench(step)
        out[name] = {"ms": ms, "gb_s": nbytes / ms / 1e6}
    return out


def attention(**shape):
    for D in (64, 128):
        res = measure_attention(**{"D": D, **shape})
        print(f"attention causal B=8 H=32 KV=4 T=2048 D={D} bf16 " + " ".join(f"{k}={v}" for k, v in shape.items()))
        for impl, r in res.items():
            if "error" in r:
                print(f"  {impl:12s} unavailable: {r['error']}")
                continue
            print(f"  {impl:12s} fwd {r['fwd_ms']:7.3f} ms {r['fwd_tflops']:6.1f} TFLOP/s   "
                  f"fwd+bwd {r['fwdbwd_ms']:7.3f} ms {r['fwdbwd_tflops']:6.1f} TFLOP/s   "
                  f"max|diff| {r['max_diff']:.1e} {r['note']}")
        if "error" not in res.get("sdpa", {"error": 1}):
            print(f"  speed-up vs sdpa (fwd+bwd): {res['sdpa']['fwdbwd_ms'] / res['triton']['fwdbwd_ms']:.2f}x "
                  "(goal >= 1.0x)")


def cross_entropy():
    res = measure_cross_entropy()
    print("linear cross-entropy fwd+bwd N=16384 D=2048 V=32000 bf16")
    for impl, r in res.items():
        print(f"  {impl:10s} peak extra memory {r['peak_mib']:9.1f} MiB   time {r['ms']:8.3f} ms   "
              f"loss {r['loss']:.5f}")
    f, e = res["fused"], res["eager"]
    print(f"  memory ratio {f['peak_mib'] / e['peak_mib']:.2f}x (goal <= 0.35x), "
          f"time ratio {f['ms'] / e['ms']:.2f}x (goal <= 1.2x)")


def rmsnorm():
    print("rmsnorm fwd+bwd M=16384 N=2048 bf16")
    for impl, r in measure_rmsnorm().items():
        print(f"  {impl:8s} {r['ms']:7.3f} ms   {r['gb_s']:7.1f} GB/s")


def main(argv: list[str]) -> int:
    which = argv or ["attention", "ce", "rmsnorm"]
    if not torch.cuda.is_available():
        print("bench/kernel_speed.py: no CUDA GPU on this machine; kernel performance not measured. "
              "Run it on a GPU node (correctness is covered by tests/test_model_kernels.py).")
        return 0
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}")
    table = {"attention": attention, "ce": cross_entropy, "rmsnorm": rmsnorm}
    for name in which:
        if name not in table:
            print(f"unknown benchmark {name!r}; expected some of {sorted(table)}")
            return 2
        table[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
