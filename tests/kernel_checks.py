"""Kernel-versus-reference checks, run in a child process with TRITON_INTERPRET=1 (CPU,
float32) by tests/test_model_kernels.py. The comparisons themselves live in
lang1core.kernels.checks (shared with bench/gpu_check.py and the runtime self-check).

Prints {check name: {quantity: max abs error, "scale": max abs of the reference}} so the
parent test can assert every output and gradient.
"""

from __future__ import annotations

import json
import sys

import torch


def _flat(c) -> dict:
    return {**c.errors, "scale": max(c.scales.values())}


def check_rmsnorm(device, dtype):
    from lang1core.kernels.checks import compare_rmsnorm

    return {f"rmsnorm{shape}": _flat(compare_rmsnorm(shape, dtype=dtype, device=device))
            for shape in [(3, 47, 72), (5, 64)]}


def check_fused_linear_ce(device, dtype):
    from lang1core.kernels.checks import compare_fused_linear_ce

    res = {}
    # the whole first chunk is ignored when chunk=16 (20 ignored rows)
    for (n, d, v, chunk, w_grad) in [(3 * 47, 40, 1000, 32, True), (3 * 47, 48, 2500, None, True),
                                     (47, 32, 300, 16, False)]:
        c = compare_fused_linear_ce(n, d, v, dtype=dtype, device=device, chunk_rows=chunk, w_grad=w_grad)
        res[f"fused_ce(n={n},d={d},v={v},chunk={chunk})"] = {**c.errors, "scale": c.scales["loss"]}
    return res


def check_autocast(device, dtype):
    """The fused loss under bfloat16 autocast with float32 weights, as the trainer runs it on a
    GPU: {name: {"relative": worst error relative to the reference's scale}}."""
    from lang1core.kernels.checks import compare_fused_linear_ce

    c = compare_fused_linear_ce(64, 32, 300, dtype=dtype, device=device, autocast=True)
    return {"autocast_ce": {"relative": c.worst[1]}}


def check_flash_attention(device, dtype):
    from lang1core.kernels.checks import compare_attention

    return {f"flash(b={b},h={h},kv={kh},t={t},d={dh})": _flat(compare_attention(b, h, kh, t, dh, dtype=dtype,
                                                                                 device=device, seed=2))
            for (b, h, kh, t, dh) in [(3, 4, 2, 47, 64), (3, 4, 2, 47, 128), (2, 4, 1, 33, 32), (1, 2, 2, 1, 16),
                                      (1, 2, 1, 100, 16)]}


def _err(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.float() - b.float()).abs().max().item()


def check_model(device, dtype):
    """The Llama with attention=triton, loss=fused equals attention=sdpa, loss=torch."""
    from lang1core.model import Llama, ModelConfig

    kw = dict(vocab_size=300, dim=64, n_layers=1, n_heads=4, n_kv_heads=2, hidden_dim=96, max_seq_len=64)
    torch.manual_seed(3)
    ref = Llama(ModelConfig(**kw)).to(device)
    ref.init_weights(3)
    fast = Llama(ModelConfig(**kw, attention="triton", loss="fused")).to(device)
    fast.load_state_dict(ref.state_dict())
    ref, fast = ref.to(dtype), fast.to(dtype)
    x = torch.randint(0, 300, (2, 19), device=device)
    y = torch.randint(0, 300, (2, 19), device=device)
    y[0, :5] = -100
    l_ref, l_fast = ref.loss(x, y), fast.loss(x, y)
    l_ref.backward()
    l_fast.backward()
    grad_err = max(_err(p.grad, q.grad) for p, q in zip(ref.parameters(), fast.parameters()))
    return {"model": {"loss": _err(l_fast, l_ref), "grads": grad_err,
                      "logits": _err(fast(x), ref(x)), "scale": l_ref.item()}}


if __name__ == "__main__":
    names = sys.argv[1:] or ["rmsnorm", "fused_linear_ce", "autocast", "flash_attention", "model"]
    result = {}
    for name in names:
        result.update(globals()[f"check_{name}"]("cpu", torch.float32))
    print("RESULT " + json.dumps(result))
