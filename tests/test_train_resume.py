"""Never lose a run: kill -9 a CPU run mid-way (or mid-checkpoint), rerun, same loss curve."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lang1core.train import checkpoint as ckpt
from lang1core.train.metrics import read_metrics

SCRIPT = Path(__file__).parent / "train_run.py"


def _run(run_dir, *args):
    return subprocess.run([sys.executable, str(SCRIPT), str(run_dir), *args],
                          capture_output=True, text=True, timeout=300)


def _curve(run_dir):
    rows = read_metrics(Path(run_dir) / "metrics.csv")
    return [(r["kind"], r["step"], r["tokens"], r["loss"], r["lr"], r["grad_norm"]) for r in rows]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted run both tests compare against."""
    run_dir = tmp_path_factory.mktemp("straight")
    done = _run(run_dir)
    assert done.returncode == 0, done.stderr
    return run_dir


def test_kill_and_resume_gives_the_uninterrupted_curve(tmp_path, straight):

    killed = _run(tmp_path / "killed", "--die-at-step", "14")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "killed" / "final").exists()
    assert ckpt.latest_checkpoint(tmp_path / "killed" / "checkpoints").step == 12
    # the live log holds steps after the checkpoint that the resume will replay
    live = read_metrics(tmp_path / "killed" / "checkpoints" / "metrics.csv", "train")
    assert int(live[-1]["step"]) == 14

    resumed = _run(tmp_path / "killed")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stderr
    assert _curve(tmp_path / "killed") == _curve(straight)
    sa = torch.load(straight / "final" / "model.pt")
    sb = torch.load(tmp_path / "killed" / "final" / "model.pt")
    assert sa and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_kill_during_checkpoint_write_resumes_from_the_previous_one(tmp_path, straight):
    killed = _run(tmp_path / "killed", "--die-in-checkpoint-at-step", "16")
    assert killed.returncode == -signal.SIGKILL
    ck = tmp_path / "killed" / "checkpoints"
    assert (ck / ".tmp-step_00000016").is_dir()  # the half-written one
    assert ckpt.latest_checkpoint(ck).step == 12
    resumed = _run(tmp_path / "killed")
    assert resumed.returncode == 0, resumed.stderr
    assert _curve(tmp_path / "killed") == _curve(straight)
