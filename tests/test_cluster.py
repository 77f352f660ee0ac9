"""The test config through `snakemake --profile slurm` on a real one-node Slurm cluster.

CI installs Debian's slurm-wlm and munge; tests/cluster/slurm-up.sh starts the cluster
(root, accounting off). The run must submit through sbatch and give the same outputs as a
local run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from workflow_run import REPO, TEST_CONFIG, copy_workflow, fingerprint, results_root, snakemake

pytestmark = pytest.mark.slow

# Without accounting the executor must poll squeue; short polls keep the test quick.
SLURM_ARGS = [
    "--profile", "slurm", "--slurm-status-command", "squeue",
    "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "2",
    "--slurm-keep-successful-logs",
]


@pytest.fixture(scope="session")
def slurm_cluster():
    if shutil.which("sbatch") is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI must run the Slurm test: .ci/run installs slurm-wlm and munge")
        pytest.skip("needs root and Debian's slurm-wlm + munge (see .ci/run)")
    up = subprocess.run(["bash", str(REPO / "tests/cluster/slurm-up.sh")], capture_output=True, text=True)
    assert up.returncode == 0, up.stdout + up.stderr


@pytest.fixture(scope="session")
def slurm_run(slurm_cluster, tmp_path_factory):
    """The test config through Slurm, in two attempts: the first gives the export-validation
    job too little memory, so Slurm kills it as a production cluster would; the restart must
    resume from what finished and complete."""
    workdir = copy_workflow(tmp_path_factory.mktemp("slurm"))
    starved = snakemake(workdir, *SLURM_ARGS, *TEST_CONFIG, "--set-resources", "validate_export:mem_mb=50")
    restart = snakemake(workdir, *SLURM_ARGS, *TEST_CONFIG)
    assert restart.returncode == 0, restart.stderr[-6000:]
    return workdir, starved, restart


def test_jobs_went_through_sbatch(slurm_run):
    _, _, restart = slurm_run
    job_ids = re.findall(r"submitted with SLURM jobid (\d+)", restart.stdout + restart.stderr)
    assert job_ids, "no job was submitted to Slurm"


def test_slurm_outputs_equal_local_outputs(slurm_run, local_run):
    workdir, _, _ = slurm_run
    assert fingerprint(results_root(workdir)) == fingerprint(results_root(local_run))


def test_a_killed_job_names_its_slurm_log(slurm_run):
    workdir, starved, _ = slurm_run
    assert starved.returncode != 0
    logs = re.findall(r"(\S*slurm_logs/rule_validate_export/\d+\.log)", starved.stdout + starved.stderr)
    assert logs, "the failure did not name the job's Slurm log"
    assert "exceeded memory limit" in (workdir / logs[0]).read_text().lower()


def test_restart_resumes_from_what_finished(slurm_run):
    _, starved, restart = slurm_run
    assert "rule synth:" in starved.stdout + starved.stderr
    assert "rule synth:" not in restart.stdout + restart.stderr
