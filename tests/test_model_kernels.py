"""Triton kernels against their PyTorch references: every output and every gradient.

On CPU the kernels run under TRITON_INTERPRET=1 in float32, in a child process so the
variable does not leak into the rest of the suite. On a GPU (tests marked `gpu`) they run
compiled, in bfloat16 and float16, against float32 references (bench/gpu_check.py runs the
full-size suite).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).parent
pytest.importorskip("triton")


@pytest.fixture(scope="module")
def interpreted():
    """Run every check in one interpreter child; {check: {quantity: error}}."""
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONWARNINGS": "ignore"}
    run = subprocess.run([sys.executable, str(HERE / "kernel_checks.py")], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    line = [ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def _assert_close(results: dict, prefix: str, tol: float, expected_n: int):
    hits = {k: v for k, v in results.items() if k.startswith(prefix)}
    assert len(hits) == expected_n, sorted(results)
    for name, errs in hits.items():
        for quantity, err in errs.items():
            if quantity != "scale":
                assert err < tol, f"{name}: {quantity} differs from the reference by {err:.3g}"


def test_rmsnorm_interpreted(interpreted):
    _assert_close(interpreted, "rmsnorm", 1e-4, 2)


def test_fused_linear_ce_interpreted(interpreted):
    _assert_close(interpreted, "fused_ce", 1e-5, 3)
    assert all("dw" in v for k, v in interpreted.items() if "v=1000" in k)


def test_fused_linear_ce_under_autocast_interpreted(interpreted):
    # bfloat16 matmuls: within a bfloat16 tolerance of the float32 reference (it raised before)
    _assert_close(interpreted, "autocast_ce", 4e-2, 1)


def test_flash_attention_interpreted(interpreted):
    _assert_close(interpreted, "flash", 1e-4, 5)


def test_model_with_kernels_interpreted(interpreted):
    _assert_close(interpreted, "model", 1e-4, 1)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_kernels_on_gpu(dtype):
    from lang1core.kernels.checks import suite

    for compare in suite("cuda", dtype, "quick"):
        c = compare()
        q, rel = c.worst
        assert c.ok, f"{c.kernel} {c.setting}: {q} off by {rel:.3g} of its scale (tolerance {c.tolerance})"


def _aot_shared_bytes(fn, signature: dict, constexprs: dict, num_warps: int, num_stages: int,
                      arch: int = 90) -> int:
    """Compile a kernel ahead of time for an NVIDIA target (no GPU needed: Triton's bundled
    ptxas) and return its static shared memory in bytes."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    sig = {**signature, **{k: "constexpr" for k in constexprs}}
    kernel = triton.compile(ASTSource(fn, sig, constexprs=constexprs), target=GPUTarget("cuda", arch, 32),
                            options={"num_warps": num_warps, "num_stages": num_stages})
    return kernel.metadata.shared


def test_kernels_compile_for_h100_within_shared_memory(monkeypatch):
    """The GPU launch configurations compile for sm_90 in bf16 and fit its 227 KiB of shared
    memory: catches type and layout errors the interpreter cannot see."""
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    monkeypatch.setenv("TRITON_DEFAULT_FP_FUSION", "1")
    pytest.importorskip("triton.backends.nvidia")
    from lang1core.kernels import flash_attention as fa
    from lang1core.kernels import fused_linear_ce as ce
    from lang1core.kernels import rmsnorm as rn

    limit = 227 * 1024
    bf, i32 = "*bf16", "i32"

    def ints(names: str) -> dict:
        return {n: i32 for n in names.split()}

    try:
        for d in (64, 128):
            bm, bn, warps, stages = fa._blocks(d, "fwd")
            c = {"BLOCK_M": bm, "BLOCK_N": bn, "HEAD_DIM": d}
            sig = {"Q": bf, "K": bf, "V": bf, "O": bf, "LSE": "*fp32",
                   **ints("sqb sqh sqt skb skh skt svb svh svt sob soh sot H GROUP T"), "qk_scale": "fp32"}
            assert _aot_shared_bytes(fa._attn_fwd, sig, c, warps, stages) < limit
            bm, bn, warps, stages = fa._blocks(d, "dkdv")
            c = {"BLOCK_M": bm, "BLOCK_N": bn, "HEAD_DIM": d}
            sig = {"Q": bf, "K": bf, "V": bf, "DO": bf, "LSE": "*fp32", "DELTA": "*fp32", "DK": bf, "DV": bf,
                   **ints("sqb sqh sqt skb skh skt svb svh svt sdob sdoh sdot sdkb sdkh sdkt sdvb sdvh sdvt "
                          "H KH GROUP T"), "qk_scale": "fp32", "sm_scale": "fp32"}
            assert _aot_shared_bytes(fa._attn_bwd_dkdv, sig, c, warps, stages) < limit
            bm, bn, warps, stages = fa._blocks(d, "dq")
            c = {"BLOCK_M": bm, "BLOCK_N": bn, "HEAD_DIM": d}
            sig = {"Q": bf, "K": bf, "V": bf, "DO": bf, "LSE": "*fp32", "DELTA": "*fp32", "DQ": bf,
                   **ints("sqb sqh sqt skb skh skt svb svh svt sdob sdoh sdot sdqb sdqh sdqt H GROUP T"),
                   "qk_scale": "fp32", "sm_scale": "fp32"}
            assert _aot_shared_bytes(fa._attn_bwd_dq, sig, c, warps, stages) < limit
        sig = {"Z": bf, "stride_z": i32, "LABELS": "*i64", "LOSS": "*fp32", "V": i32, "ignore_index": i32,
               "scale": "fp32"}
        assert _aot_shared_bytes(ce._ce_fwd_bwd_rows, sig, {"BLOCK_V": 16384}, 32, 1) < limit
        sig = {"X": bf, "W": bf, "Y": bf, "RSTD": "*fp32", **ints("stride_x stride_y M N"), "eps": "fp32"}
        assert _aot_shared_bytes(rn._rmsnorm_fwd, sig, {"BLOCK_N": 2048}, 8, 1) < limit
        sig = {"X": bf, "W": bf, "DY": bf, "DX": bf, "RSTD": "*fp32", "DW_PARTIAL": "*fp32",
               **ints("stride_x stride_dy stride_dx M N")}
        assert _aot_shared_bytes(rn._rmsnorm_bwd, sig, {"BLOCK_N": 2048}, 8, 1) < limit
    except (FileNotFoundError, RuntimeError) as err:  # no bundled ptxas on this platform
        if "ptxas" in str(err):
            pytest.skip(f"Triton cannot compile for NVIDIA here: {err}")
        raise


def test_fused_ce_rejects_out_of_range_labels():
    from lang1core.kernels.fused_linear_ce import fused_linear_ce_fwd

    h, w = torch.randn(4, 8), torch.randn(10, 8)
    with pytest.raises(ValueError, match="label 10 outside"):
        fused_linear_ce_fwd(h, w, torch.tensor([1, 2, 10, -100]))
    with pytest.raises(ValueError, match="must be"):
        fused_linear_ce_fwd(h, w, torch.tensor([1, 2]))
