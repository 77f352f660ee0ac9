"""Kernel-versus-reference checks, run in a child process with TRITON_INTERPRET=1 (CPU,
float32) by tests/test_model_kernels.py, or in-process on a GPU in bfloat16.

`run_all(device, dtype)` returns {check name: {quantity: max abs error, "scale": max abs of
the reference}} so the parent test can assert every output and gradient.
"""

from __future__ import annotations

import json
import sys

import torch


def _err(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.float() - b.float()).abs().max().item()


def _grads(out, inputs, dout):
    return torch.autograd.grad(out, inputs, dout)


def check_rmsnorm(device, dtype):
    from lang1core.kernels.rmsnorm import rmsnorm, rmsnorm_reference

    res = {}
    for shape in [(3, 47, 72), (5, 64)]:
        torch.manual_seed(0)
        x = torch.randn(*shape, device=device, dtype=dtype, requires_grad=True)
        w = (torch.rand(shape[-1], device=device) + 0.5).to(dtype).requires_grad_()
        y, yr = rmsnorm(x, w, 1e-5), rmsnorm_reference(x.float(), w.float(), 1e-5)
        dy = torch.randn_like(y)
        g, gr = _grads(y, (x, w), dy), _grads(yr, (x, w), dy.float())
        res[f"rmsnorm{shape}"] = {"y": _err(y, yr), "dx": _err(g[0], gr[0]), "dw": _err(g[1], gr[1]),
                                  "scale": max(yr.abs().max().item(), gr[1].abs().max().item())}
    return res


def check_fused_linear_ce(device, dtype):
    from lang1core.kernels.fused_linear_ce import fused_linear_cross_entropy, linear_cross_entropy_reference

    res = {}
    for (n, d, v, chunk, w_grad) in [(3 * 47, 40, 1000, 32, True), (3 * 47, 48, 2500, None, True),
                                     (47, 32, 300, 16, False)]:
        torch.manual_seed(1)
        h = torch.randn(n, d, device=device, dtype=dtype, requires_grad=True)
        w = (0.1 * torch.randn(v, d, device=device)).to(dtype).requires_grad_(w_grad)
        y = torch.randint(0, v, (n,), device=device)
        y[:20] = -100  # ignored rows, including the whole first chunk when chunk=16
        y[-1] = v - 1  # the last vocabulary entry (end of the last block)
        loss = fused_linear_cross_entropy(h, w, y, ignore_index=-100, chunk_rows=chunk)
        ref = linear_cross_entropy_reference(h.float(), w.float(), y, ignore_index=-100)
        inputs = (h, w) if w_grad else (h,)
        g = _grads(loss * 2.5, inputs, None)
        gr = _grads(ref * 2.5, inputs, None)
        out = {"loss": _err(loss, ref), "dh": _err(g[0], gr[0]), "scale": ref.item()}
        if w_grad:
            out["dw"] = _err(g[1], gr[1])
        res[f"fused_ce(n={n},d={d},v={v},chunk={chunk})"] = out
    return res


def check_flash_attention(device, dtype):
    from lang1core.kernels.flash_attention import attention_reference, flash_attention

    res = {}
    for (b, h, kh, t, dh) in [(3, 4, 2, 47, 64), (3, 4, 2, 47, 128), (2, 4, 1, 33, 32), (1, 2, 2, 1, 16), (1, 2, 1, 100, 16)]:
        torch.manual_seed(2)
        q = torch.randn(b, h, t, dh, device=device, dtype=dtype, requires_grad=True)
        k = torch.randn(b, kh, t, dh, device=device, dtype=dtype, requires_grad=True)
        v = torch.randn(b, kh, t, dh, device=device, dtype=dtype, requires_grad=True)
        o = flash_attention(q, k, v)
        ref = attention_reference(q.float(), k.float(), v.float())
        do = torch.randn_like(o)
        g, gr = _grads(o, (q, k, v), do), _grads(ref, (q, k, v), do.float())
        res[f"flash(b={b},h={h},kv={kh},t={t},d={dh})"] = {
            "o": _err(o, ref), "dq": _err(g[0], gr[0]), "dk": _err(g[1], gr[1]), "dv": _err(g[2], gr[2]),
            "scale": max(x.abs().max().item() for x in gr)}
    return res


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


def run_all(device="cpu", dtype=torch.float32):
    out = {}
    for check in (check_rmsnorm, check_fused_linear_ce, check_flash_attention, check_model):
        out.update(check(device, dtype))
    return out


if __name__ == "__main__":
    names = sys.argv[1:] or ["rmsnorm", "fused_linear_ce", "flash_attention", "model"]
    result = {}
    for name in names:
        result.update(globals()[f"check_{name}"]("cpu", torch.float32))
    print("RESULT " + json.dumps(result))
