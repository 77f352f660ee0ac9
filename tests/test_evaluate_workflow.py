"""The evaluate rules on contract fixtures: metrics per run, tables, conditional and dataset tables.

finetune.smk's PREDICTION_RUNS / prediction_files() are stubbed in a private copy of the
workflow, and the ReMedE / prediction / oracle files come from the fixture builder, so this
runs before those stages land and keeps testing the same contract after.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from eval_fixtures import build_all
from workflow_run import TEST_CONFIG, copy_workflow, results_root, snakemake

pytestmark = pytest.mark.slow

STUB = '''
PREDICTION_RUNS = [
    {"model": "lang1", "recipe": "zeroshot", "tasks": TASKS_ALL, "splits": SPLITS_ALL},
    {"model": "generalist", "recipe": "readmission", "tasks": TASKS_ALL, "splits": SPLITS_ALL},
]


def prediction_files(model, recipe):
    return [res("predictions", model, recipe, t, f"{s}.parquet") for t in TASKS_ALL for s in SPLITS_ALL]
'''

RULES = ["evaluate", "tables", "claims"]


def test_evaluate_rules_on_fixtures(tmp_path):
    work = copy_workflow(tmp_path / "wf")
    (work / "workflow/rules/finetune.smk").write_text(
        "from lang1core.remede.tasks import SPLITS as SPLITS_ALL, TASKS\n\nTASKS_ALL = list(TASKS)\n" + STUB)
    root = results_root(work)
    build_all(root, runs=[("lang1", "zeroshot"), ("generalist", "readmission")], n=80)
    targets = [f"{root.name}/tables/{f}" for f in ("auroc.csv", "conditional.csv", "B1_counts.csv")]
    targets.append(f"{root.name}/claims.md")
    run = snakemake(work, "--cores", "2", *TEST_CONFIG, "--allowed-rules", *RULES, "--", *targets)
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
    again = snakemake(work, "-n", "--cores", "1", *TEST_CONFIG, "--allowed-rules", *RULES, "--", *targets)
    assert "Nothing to be done" in again.stdout + again.stderr
