"""Triton kernels against their PyTorch references: every output and every gradient.

On CPU the kernels run under TRITON_INTERPRET=1 in float32, in a child process so the
variable does not leak into the rest of the suite. On a GPU (tests marked `gpu`) they run
compiled, in bfloat16, against float32 references.
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


def test_flash_attention_interpreted(interpreted):
    _assert_close(interpreted, "flash", 1e-4, 5)


def test_model_with_kernels_interpreted(interpreted):
    _assert_close(interpreted, "model", 1e-4, 1)


@pytest.mark.gpu
def test_kernels_bf16_on_gpu():
    sys.path.insert(0, str(HERE))
    from kernel_checks import run_all

    results = run_all("cuda", torch.bfloat16)
    for name, errs in results.items():
        scale = max(errs.get("scale", 1.0), 1.0)
        for quantity, err in errs.items():
            if quantity != "scale":
                # bf16 has an 8-bit mantissa: allow a few percent of the values' scale
                assert err < 5e-2 * scale, f"{name}: {quantity} error {err:.3g} (scale {scale:.3g})"
