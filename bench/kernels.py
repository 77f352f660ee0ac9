"""Benchmark the Triton kernels against PyTorch (issue 4's figures).

    python bench/kernels.py            # all three
    python bench/kernels.py attention  # or: ce, rmsnorm

- attention: causal forward+backward TFLOP/s, ours vs torch SDPA, at batch 8, 32 heads,
  4 KV heads, sequence 2048, head dim 64, bfloat16 (goal: >= 1.0x SDPA). SDPA gets the KV
  heads expanded (enable_gqa where supported); FLOPs count the causal half only:
  fwd 2 matmuls * 2*B*H*T*T*D / 2, bwd 2.5x fwd.
- ce: fused linear cross-entropy vs eager (logits -> float32 -> F.cross_entropy), forward +
  backward at 16,384 tokens, hidden 2048, vocabulary 32,000, bf16: peak memory above the
  inputs and time (goals: <= 0.35x the memory, <= 1.2x the time).
- rmsnorm: forward+backward GB/s, ours vs the PyTorch reference, 16,384 x 2048 bf16.

Needs a CUDA GPU; on a CPU-only machine it says so and exits 0 (the numbers cannot be
measured there: the Triton interpreter is a correctness tool, not a performance one).
"""

from __future__ import annotations

import sys

import torch


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


def attention(B=8, H=32, KH=4, T=2048, D=64, dtype=torch.bfloat16):
    import torch.nn.functional as F

    from lang1core.kernels.flash_attention import flash_attention

    q = torch.randn(B, H, T, D, device="cuda", dtype=dtype, requires_grad=True)
    k = torch.randn(B, KH, T, D, device="cuda", dtype=dtype, requires_grad=True)
    v = torch.randn(B, KH, T, D, device="cuda", dtype=dtype, requires_grad=True)
    do = torch.randn_like(q)

    def sdpa(q, k, v):
        try:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        except TypeError:  # torch < 2.5
            r = H // KH
            return F.scaled_dot_product_attention(q, k.repeat_interleave(r, 1), v.repeat_interleave(r, 1),
                                                  is_causal=True)

    err = (flash_attention(q, k, v).float() - sdpa(q, k, v).float()).abs().max().item()
    fwd_flops = 2 * 2 * B * H * T * T * D / 2
    total = fwd_flops * 3.5
    rows = []
    for name, f in (("triton (ours)", flash_attention), ("torch sdpa", sdpa)):
        def step():
            q.grad = k.grad = v.grad = None
            f(q, k, v).backward(do)
        ms_fwd = bench(lambda: f(q, k, v))
        ms = bench(step)
        rows.append((name, ms_fwd, ms, total / ms / 1e9))
    print(f"attention causal B={B} H={H} KV={KH} T={T} D={D} {dtype}")
    for name, ms_fwd, ms, tflops in rows:
        print(f"  {name:14s} fwd {ms_fwd:7.3f} ms   fwd+bwd {ms:7.3f} ms   {tflops:6.1f} TFLOP/s")
    print(f"  max |output difference| vs sdpa: {err:.2e}")
    print(f"  speed-up vs sdpa (fwd+bwd): {rows[1][2] / rows[0][2]:.2f}x (goal >= 1.0x)")


def cross_entropy(N=16384, D=2048, V=32000, dtype=torch.bfloat16):
    from lang1core.kernels.fused_linear_ce import fused_linear_cross_entropy, linear_cross_entropy_reference

    h = torch.randn(N, D, device="cuda", dtype=dtype, requires_grad=True)
    w = (0.02 * torch.randn(V, D, device="cuda")).to(dtype).requires_grad_()
    y = torch.randint(0, V, (N,), device="cuda")
    rows = []
    for name, f in (("fused (ours)", fused_linear_cross_entropy), ("eager torch", linear_cross_entropy_reference)):
        def step():
            h.grad = w.grad = None
            f(h, w, y).backward()
        step()  # warm-up (Triton compilation, allocator)
        h.grad = w.grad = None
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()  # inputs only
        f(h, w, y).backward()
        torch.cuda.synchronize()
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20  # includes the two gradients
        rows.append((name, peak, bench(step, warmup=2, reps=10)))
    with torch.no_grad():
        diff = abs(fused_linear_cross_entropy(h, w, y).item() - linear_cross_entropy_reference(h, w, y).item())
    print(f"linear cross-entropy fwd+bwd N={N} D={D} V={V} {dtype}")
    for name, peak, ms in rows:
        print(f"  {name:14s} peak extra memory {peak:9.1f} MiB   time {ms:8.3f} ms")
    print(f"  |loss difference| {diff:.2e}")
    print(f"  memory ratio {rows[0][1] / rows[1][1]:.2f}x (goal <= 0.35x), "
          f"time ratio {rows[0][2] / rows[1][2]:.2f}x (goal <= 1.2x)")


def rmsnorm(M=16384, N=2048, dtype=torch.bfloat16):
    from lang1core.kernels.rmsnorm import rmsnorm as ours
    from lang1core.kernels.rmsnorm import rmsnorm_reference

    x = torch.randn(M, N, device="cuda", dtype=dtype, requires_grad=True)
    w = torch.ones(N, device="cuda", dtype=dtype, requires_grad=True)
    dy = torch.randn_like(x)
    nbytes = 5 * x.numel() * x.element_size()  # read x (twice), dy; write y, dx
    print(f"rmsnorm fwd+bwd M={M} N={N} {dtype}")
    for name, f in (("triton (ours)", ours), ("torch reference", rmsnorm_reference)):
        def step():
            x.grad = w.grad = None
            f(x, w, 1e-5).backward(dy)
        ms = bench(step)
        print(f"  {name:16s} {ms:7.3f} ms   {nbytes / ms / 1e6:7.1f} GB/s")


def main(argv: list[str]) -> int:
    which = argv or ["attention", "ce", "rmsnorm"]
    if not torch.cuda.is_available():
        print("bench/kernels.py: no CUDA GPU on this machine; kernel performance not measured. "
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
