"""Figures in the workflow: one figure is one target that pulls in only its tables, and the
report collects every figure."""

from __future__ import annotations

import re

import pytest

from lang1core.figures import DATASET_TABLES, FIGURES
from lang1core.figures.fixtures import write_tables
from workflow_run import TEST_CONFIG, copy_workflow, snakemake


def planned_jobs(stdout: str) -> dict[str, int]:
    """Job name -> count from Snakemake's dry-run 'Job stats' table."""
    block = stdout.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+(\d+)$", block, re.M)}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("figwf"))


def test_one_figure_target_builds_only_its_tables(workdir):
    r = "r-empty"
    run = snakemake(workdir, "-n", "--cores", "1", *TEST_CONFIG, "--config", f"results={r}",
                    "--", f"{r}/figures/fig2a.pdf")
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    jobs = planned_jobs(run.stdout)
    assert jobs.get("figure_fig2a") == 1
    assert "tables" in jobs  # the evaluate stage's tables are its only producers
    assert not [j for j in jobs if j.startswith("figure_") and j != "figure_fig2a"]


def test_figure_rules_exist_for_every_figure_and_table(workdir):
    run = snakemake(workdir, "--list-rules", *TEST_CONFIG)
    assert run.returncode == 0, run.stderr[-3000:]
    for name in [*FIGURES, *DATASET_TABLES]:
        assert f"figure_{name}" in run.stdout


def test_existing_tables_mean_only_the_figure_runs(workdir):
    r = "r-fixture"
    write_tables(workdir / r / "tables")
    run = snakemake(workdir, "-n", "--cores", "1", *TEST_CONFIG, "--config", f"results={r}",
                    "--", f"{r}/figures/figK8.png")
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    assert planned_jobs(run.stdout) == {"figure_figK8": 1, "total": 1}


@pytest.mark.slow
def test_figures_and_report_from_fixture_tables(workdir):
    r = "r-fixture"
    write_tables(workdir / r / "tables")
    targets = [f"{r}/figures/{n}.png" for n in ("fig2a", "figE5", "B1")]
    run = snakemake(workdir, "--cores", "2", *TEST_CONFIG, "--config", f"results={r}",
                    "--", *targets)
    assert run.returncode == 0, run.stderr[-3000:]
    for t in targets:
        assert (workdir / t).stat().st_size > 10_000
        assert (workdir / t).with_suffix(".pdf").exists()
    assert (workdir / r / "figures" / "B1.md").read_text().startswith("## Table B1")
    rep = snakemake(workdir, *TEST_CONFIG, "--config", f"results={r}", "--report",
                    "report.html", "--", *targets)
    assert rep.returncode == 0, rep.stderr[-3000:]
    html = (workdir / "report.html").read_text()
    assert "synthetic hospital" in html and "figure_fig2a" in html
