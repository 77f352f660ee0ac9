"""The workflow's own hygiene: lint- and format-clean, and reruns that touch only what changed."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from workflow_run import REPO, TEST_CONFIG, snakemake


def test_snakemake_lint_is_clean():
    run = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]


def test_workflow_files_are_snakefmt_formatted():
    run = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def planned_rules(workdir, *args) -> set[str]:
    """Rules a dry run would execute, read from Snakemake's job-stats table."""
    run = snakemake(workdir, "-n", "--cores", "1", *args)
    assert run.returncode == 0, run.stderr[-4000:]
    out = run.stdout + run.stderr
    if "Nothing to be done" in out:
        return set()
    stats = out.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+$", stats, re.M)} - {"all", "total"}


# (config overlay, rules that must rerun, rules that must not)
CHANGES = [
    ({"export": {"max_reject_rate": 0.06}}, {"validate_export"}, {"synth"}),
    # a key no rule of this source reads: nothing reruns
    ({"mimic3": {"dir": "elsewhere"}}, set(), {"synth", "validate_export", "tables", "figure_fig2a"}),
    # drawing options redraw figures and nothing upstream of them
    ({"figures": {"dpi": 99}}, {"figure_fig2a"}, {"tables", "evaluate", "remede_tasks", "pretrain", "claims"}),
    # a verdict rule re-judges the claims and nothing else
    ({"claims": {"near_chance_margin": 0.05}}, {"claims"}, {"tables", "evaluate", "figure_fig2a"}),
]


@pytest.mark.slow
@pytest.mark.parametrize("overlay,reruns,keeps", CHANGES, ids=lambda v: str(v)[:40])
def test_changing_one_key_reruns_only_what_depends_on_it(local_run, overlay, reruns, keeps):
    overlay_file = local_run / "overlay.yaml"
    overlay_file.write_text(yaml.safe_dump(overlay))
    planned = planned_rules(local_run, *TEST_CONFIG, str(overlay_file.name))
    assert reruns <= planned, planned
    assert not keeps & planned, planned


def _dry_run(repo, configfile: str) -> tuple[dict[str, int], dict[str, str]]:
    """(jobs per rule, each rule's first job block) of `snakemake -n` with the config."""
    run = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", configfile],
                         cwd=repo, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-4000:]
    out = run.stdout + run.stderr
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", out.split("Job stats:", 1)[1].split("\n\n", 1)[0], re.M))
    blocks = {m.group(1): m.group(2) for m in re.finditer(r"^rule (\w+):\n((?:    .*\n)+)", out, re.M)}
    return {k: int(v) for k, v in jobs.items()}, blocks


def test_paper_config_plans_the_full_study_with_gpu_requests(repo):
    jobs, blocks = _dry_run(repo, "configs/paper.yaml")
    assert jobs["pretrain"] == 4  # lang1, generalist, clinical_only, lang1_7b
    assert "figure_fig2a" in jobs and jobs["finetune_train"] > 0
    assert "gpu=8" in blocks["pretrain"]  # one 8-GPU node per model, launched with torchrun
    assert "gpu=1" in blocks["finetune_train"]


def test_gpu_config_plans_the_whole_study_on_one_gpu_scoring_every_example(repo):
    jobs, blocks = _dry_run(repo, "configs/gpu.yaml")
    assert jobs["pretrain"] == 3 and jobs["finetune_train"] == 16  # 3 models x 5 tasks + joint
    assert jobs["finetune_efficiency"] > 0 and jobs["finetune_zeroshot"] > 0 and "figure_fig2a" in jobs
    for rule in ("pretrain", "finetune_train", "finetune_zeroshot", "finetune_efficiency"):
        assert "gpu=1" in blocks[rule], blocks[rule]
    assert "results-gpu/" in blocks["pretrain"]
    cfg = yaml.safe_load((repo / "configs" / "gpu.yaml").read_text())
    from lang1core.model import ModelConfig

    model = ModelConfig.from_preset(cfg["model"]["preset"])
    assert model.dim * model.n_layers >= 768 * 6  # smol-100m or larger
    ft = cfg["finetune"]
    assert ft["max_predict_examples"] is None and ft["max_eval_examples"] is None  # every example scored
    study = yaml.safe_load((repo / "configs" / "paper.yaml").read_text())["finetune"]
    for key in ("batch_size", "eval_every", "patience", "search_trials", "max_note_tokens"):
        assert ft[key] == study[key], key  # the study's finetuning settings
