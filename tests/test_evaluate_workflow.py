"""The evaluate rules on contract fixtures: metrics per run, tables, conditional and dataset tables.

The ReMedE / prediction / oracle files come from the fixture builder and a config overlay
(tests/fixtures/evaluate_runs.yaml) makes them the workflow's prediction runs; only the
evaluate rules may run, so the files stand in for the earlier stages' outputs.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from eval_fixtures import build_all
from workflow_run import REPO, TEST_CONFIG, copy_workflow, results_root, snakemake

pytestmark = pytest.mark.slow

# finetune.smk's runs set to the two runs the fixtures write (a config overlay, not a stub).
RUNS_CONFIG = str(REPO / "tests/fixtures/evaluate_runs.yaml")

RULES = ["evaluate", "tables", "claims"]


def test_evaluate_rules_on_fixtures(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    root = results_root(work)
    build_all(root, runs=[("lang1", "zeroshot"), ("generalist", "readmission")], n=80)
    targets = [f"{root.name}/tables/{f}" for f in ("auroc.csv", "conditional.csv", "B1_counts.csv")]
    targets.append(f"{root.name}/claims.md")
    run = snakemake(work, "--cores", "2", *TEST_CONFIG, RUNS_CONFIG, "--allowed-rules", *RULES, "--", *targets)
    assert run.returncode == 0, run.stderr[-5000:]
    doc = json.loads((root / "metrics/lang1/zeroshot.json").read_text())
    assert doc["settings"]["n_bootstrap"] == 200  # the test config's override
    assert len(doc["provenance"]["config_hash"]) == 16
    auroc = pl.read_csv(root / "tables/auroc.csv")
    assert set(auroc["model"]) == {"lang1", "generalist"}
    assert set(auroc["split"]) == {"test", "temporal", "temporal_2024", "external"}  # not train/val
    assert auroc["oracle_auroc"].null_count() < auroc.height  # synthetic source: oracle joined
    assert pl.read_csv(root / "tables/conditional.csv").height == 2 * 2 * 4
    assert len(list((root / "tables").glob("B*.csv"))) == 7
    assert (root / "logs/evaluate/lang1/zeroshot.log").exists()
    claims = pl.read_csv(root / "tables/claims.csv")
    zeroshot = claims.filter((pl.col("claim") == "a") & (pl.col("compared") == "lang1/zeroshot"))
    assert zeroshot.height == 6 and (zeroshot["n_bootstrap"] == 200).all()  # five tasks and `all`
    assert (root / "claims.md").read_text().startswith("# The study's claims")
    again = snakemake(work, "-n", "--cores", "1", *TEST_CONFIG, RUNS_CONFIG, "--allowed-rules", *RULES, "--", *targets)
    assert "Nothing to be done" in again.stdout + again.stderr
