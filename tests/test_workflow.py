"""The whole workflow on the test config, end to end, as a fresh clone runs it."""

from __future__ import annotations

import pytest

from workflow_run import TEST_CONFIG, fingerprint, results_root, snakemake

pytestmark = pytest.mark.slow


def test_workflow_runs_to_the_end(local_run):
    assert fingerprint(results_root(local_run)), "the test config produced no outputs"


def test_rerun_of_finished_workflow_does_nothing(local_run):
    run = snakemake(local_run, "-n", "--cores", "1", *TEST_CONFIG)
    assert run.returncode == 0, run.stderr
    assert "Nothing to be done" in run.stdout + run.stderr
