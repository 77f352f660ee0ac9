"""bench/gpu_check.py without a GPU: its refusal to run, its arguments, table and verdict,
the section runner, and the kernel and FSDP sections themselves at toy size on CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import gpu_check as C
import gpu_sections as G

REPO = Path(__file__).resolve().parents[1]

Row = G.Row


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without a GPU")
def test_without_cuda_it_exits_2_and_runs_nothing(tmp_path):
    out = tmp_path / "check.json"
    run = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_check.py"), "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    assert "no CUDA device" in run.stderr
    assert not out.exists() and not (tmp_path / "check_logs").exists()


def test_only_selects_sections_in_registry_order_and_rejects_unknown(capsys):
    a = C.parse_args(["--only", "scoring,kernels", "--only", "fsdp"], G.SECTIONS)
    assert a.sections == ["kernels", "fsdp", "scoring"]
    assert C.parse_args([], G.SECTIONS).sections == list(G.SECTIONS)
    with pytest.raises(SystemExit) as err:
        C.parse_args(["--only", "kernels,nope"], G.SECTIONS)
    assert err.value.code == 2 and "nope" in capsys.readouterr().err


def test_the_section_budgets_fit_the_total():
    assert sum(s.budget_s for s in G.SECTIONS.values()) <= C.TOTAL_BUDGET_S
    assert all(callable(s.run) and s.budget_s > 0 for s in G.SECTIONS.values())


def test_verdict_passes_only_when_every_judged_row_passes():
    ok = [Row("a", "x", "", "1", ">= 1", G.PASS), Row("a", "y", "", "2")]
    assert C.verdict(ok)[0]
    failed, summary = C.verdict(ok + [Row("b", "z", "", "0", ">= 1", G.FAIL)])
    assert not failed and "1 of 2" in summary
    assert not C.verdict([Row("a", "y", "", "2")])[0]  # nothing judged proves nothing


def test_table_has_one_aligned_line_per_row():
    rows = [Row("kernels", "attention vs reference", "b=2 t=1023", "dq 0.01 of scale", "<= 0.04", G.PASS),
            Row("trainer", "MFU", "tinyllama-1b", "47.0%", ">= 45%", G.FAIL)]
    lines = C.format_table(rows).splitlines()
    assert len(lines) == 4 and lines[0].split() == ["section", "check", "setting", "measured", "goal", "result"]
    assert lines[2].endswith("PASS") and lines[3].endswith("FAIL")
    col = lines[0].index("measured")
    assert lines[2][col:].startswith("dq 0.01") and lines[3][col:].startswith("47.0%")


def test_budget_rows_fail_a_timeout_a_crash_and_an_overrun():
    s = G.Section("x", "", 10, None)
    assert C.budget_rows(s, 10.5, True, None, [], None)[0].status == G.FAIL
    assert C.budget_rows(s, 3, False, 1, [], None)[0].status == G.FAIL
    error_row = [Row("x", "error", "", "boom", "no error", G.FAIL)]
    assert C.budget_rows(s, 3, False, 1, error_row, None)[0].check == "section time"  # no second failure
    assert C.budget_rows(s, 11, False, 0, [], None)[0].status == G.FAIL
    assert C.budget_rows(s, 9, False, 0, [], None)[0].status == G.PASS


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a section that fails without a GPU")
def test_a_section_that_fails_in_its_process_is_a_failed_row_with_its_log(tmp_path):
    rows = C.run_section(G.SECTIONS["attention"], True, tmp_path)  # CUDA-only: raises on CPU
    assert [r.check for r in rows] == ["error", "section time"]
    assert rows[0].status == G.FAIL and rows[0].measured
    assert "Traceback" in (tmp_path / "attention.log").read_text()


def _kernel_rows(broken: bool):
    pytest.importorskip("triton")
    # The child imports bench/gpu_sections.py by name, as the test modules do.
    path = os.pathsep.join(filter(None, [str(REPO / "bench"), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONWARNINGS": "ignore", "PYTHONPATH": path}
    run = subprocess.run([sys.executable, str(REPO / "tests" / "gpu_check_kernels_run.py")]
                         + (["--break", "rmsnorm"] if broken else []),
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    line = [ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return [Row(**r) for r in json.loads(line[len("RESULT "):])]


def test_kernel_section_passes_correct_kernels_and_fails_a_wrong_one():
    rows = _kernel_rows(broken=False)
    kernels = {r.check.split()[0] for r in rows}
    assert kernels == {"attention", "rmsnorm", "fused_linear_ce"}
    assert all(r.status == G.PASS and r.value < 1e-4 for r in rows), rows
    broken = _kernel_rows(broken=True)
    assert [r.status for r in broken if r.check.startswith("rmsnorm")] == [G.FAIL]
    assert all(r.status == G.PASS for r in broken if not r.check.startswith("rmsnorm"))


TINY = dict(vocab_size=64, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=64, max_seq_len=16,
            tie_embeddings=False)


def _fsdp_rows():
    from lang1core.model import ModelConfig

    rows = []
    G.fsdp_resume(G.Context(torch.device("cpu"), quick=True), rows.append, model_cfg=ModelConfig(**TINY),
                  seq_len=16, micro_batch=2, precision="fp32")
    return {r.check: r for r in rows}


def test_fsdp_section_resumes_exactly_on_cpu(one_thread):
    rows = _fsdp_rows()
    assert all(r.status == G.PASS for r in rows.values()), rows
    assert rows["exact resume"].value == 0.0


def test_fsdp_section_catches_a_resume_that_replays_the_wrong_batches(one_thread, monkeypatch):
    loader = G._bench("train").RandomTokens
    monkeypatch.setattr(loader, "load_state_dict", lambda self, state: None)  # restarts the stream
    rows = _fsdp_rows()
    assert rows["exact resume"].status == G.FAIL and rows["exact resume"].value > 0


@pytest.mark.gpu
def test_quick_check_passes_on_this_gpu(tmp_path):
    out = tmp_path / "check.json"
    run = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_check.py"), "--quick", "--only",
                          "kernels,fsdp", "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["passed"] and {r["section"] for r in result["rows"]} == {"kernels", "fsdp"}


@pytest.mark.parametrize("status,code", [(G.PASS, 0), (G.FAIL, 1)])
def test_main_runs_every_section_prints_one_table_and_writes_json(tmp_path, monkeypatch, capsys, status, code):
    ran = []

    def fake_run_section(section, quick, log_dir):
        ran.append(section.name)
        ok = status if section.name == "fsdp" else G.PASS
        return [Row(section.name, "x", "s", "1", ">= 1", ok, 1.0)]

    monkeypatch.setattr(C, "run_section", fake_run_section)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Test GPU")
    out = tmp_path / "check.json"
    assert C.main(["--out", str(out)]) == code
    assert ran == list(G.SECTIONS)
    printed = capsys.readouterr().out
    assert printed.count("\n") == len(G.SECTIONS) + 4  # header, rule, rows, total, verdict
    result = json.loads(out.read_text())
    assert result["passed"] is (code == 0) and result["environment"]["device"] == "Test GPU"
    assert [r["section"] for r in result["rows"]] == list(G.SECTIONS) + ["all"]
