"""The whole workflow on the test config, end to end, as a fresh clone runs it."""

from __future__ import annotations

import json

import pytest

from workflow_run import TEST_CONFIG, fingerprint, results_root, snakemake

pytestmark = pytest.mark.slow


def test_workflow_runs_to_the_end(local_run):
    assert fingerprint(results_root(local_run)), "the test config produced no outputs"


def test_rerun_of_finished_workflow_does_nothing(local_run):
    run = snakemake(local_run, "-n", "--cores", "1", *TEST_CONFIG)
    assert run.returncode == 0, run.stderr
    assert "Nothing to be done" in run.stdout + run.stderr


def test_pretrain_cli_builds_the_settings_the_workflow_trained_with(local_run):
    """`lang1 pretrain --config config.yaml configs/test.yaml --model M` would train M with
    exactly the TrainConfig that rule `pretrain` trained it with (read back from final/)."""
    from lang1core.cli import build_parser
    from lang1core.train.cli import run_spec
    from lang1core.train.config import TrainConfig

    config = [str(local_run / "config.yaml"), str(local_run / TEST_CONFIG[1])]
    finals = sorted((results_root(local_run) / "pretrain").glob("*/final/lang1.json"))
    assert finals, "the test config pretrained no model"
    for meta in finals:
        model = meta.parents[1].name
        args = build_parser().parse_args(["pretrain", "--config", *config, "--model", model,
                                          "--shards", "s", "--tokenizer", "t", "--out", "o"])
        trained = TrainConfig.from_dict(json.loads(meta.read_text())["train_config"])
        assert TrainConfig.from_dict(run_spec(args)[0]["train"]) == trained, model
