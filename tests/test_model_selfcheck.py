"""The runtime kernel self-check: a wrong Triton kernel is caught before training, the run
falls back to PyTorch and says so in its log, metrics.csv and provenance; a correct kernel
passes and stays on. Runs under TRITON_INTERPRET=1 in a child process (tests/selfcheck_run.py).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
pytest.importorskip("triton")
ALL = ["attention", "fused_linear_ce", "rmsnorm"]


def _run(run_dir: Path, broken: str | None):
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, str(HERE / "selfcheck_run.py"), str(run_dir)] + (["--break", broken] if broken else [])
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    line = [ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    events = {}
    with open(run_dir / "metrics.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "event" and row["name"].startswith("kernel_"):
                verdict, kernel = row["name"].split(":")
                events[kernel] = verdict
    meta = json.loads((run_dir / "final" / "lang1.json").read_text())["kernel_check"]
    scored = json.loads((run_dir / "scored" / "run.json").read_text())["kernel_check"]
    return json.loads(line[len("RESULT "):]), run.stderr, events, meta, scored


@pytest.mark.parametrize("broken", ["attention", "fused_linear_ce"])
def test_a_wrong_kernel_falls_back_loudly(tmp_path, broken):
    result, log, events, meta, scored = _run(tmp_path, broken)
    assert result["disabled"] == [broken]
    assert result["calls_after_training"][broken] == 0  # the model no longer calls it
    # with the kernel off, the model's loss is PyTorch's
    assert result["loss"] == pytest.approx(result["reference_loss"], rel=1e-4)
    warnings = [ln for ln in log.splitlines() if " WARNING lang1core.model.selfcheck" in ln]
    assert len(warnings) == 2 and all(broken in ln and "DISAGREES" in ln for ln in warnings), log[-3000:]
    assert events == {k: "kernel_fallback" if k == broken else "kernel_ok" for k in ALL}
    for report in (meta, scored):
        assert report["fallback"] == [broken]
        assert report["kernels"][broken]["ok"] is False
        assert report["kernels"][broken]["relative_error"] > report["kernels"][broken]["tolerance"]


def test_correct_kernels_pass_and_stay_on(tmp_path):
    result, log, events, meta, scored = _run(tmp_path, None)
    assert result["disabled"] == []
    assert all(result["calls_after_training"][k] > 0 for k in ALL)
    assert result["loss"] == pytest.approx(result["reference_loss"], rel=1e-4)
    assert "DISAGREES" not in log
    assert events == {k: "kernel_ok" for k in ALL}
    for report in (meta, scored):
        assert report["fallback"] == [] and sorted(report["kernels"]) == ALL
        assert all(r["ok"] for r in report["kernels"].values())
