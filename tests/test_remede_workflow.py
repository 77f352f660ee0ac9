"""The remede rules inside the whole workflow on the test config (1,000 patients): every
task x split file exists and reads (tiny or single-class splits included), the manifest's
counts agree with the files and with Table B1, and the lm-eval folder is complete."""

from __future__ import annotations

import json

import polars as pl
import pytest

from lang1core.remede.tasks import SPLITS
from workflow_run import results_root

pytestmark = pytest.mark.slow


def test_remede_outputs_of_the_test_config(local_run):
    root = results_root(local_run) / "remede"
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["leakage_ok"] and "provenance" in manifest
    b1 = pl.read_csv(root / "stats" / "B1_counts.csv")
    for task, info in manifest["tasks"].items():
        for split in SPLITS:
            df = pl.read_parquet(root / task / f"{split}.parquet")
            assert df.height == info["splits"][split]["examples"]
            assert b1.filter((pl.col("task") == task) & (pl.col("split") == split))["notes"].item() == df.height
            assert df["example_id"].is_unique().all()
            if df.height:
                assert df["label"].max() < len(info["options"])
    assert manifest["tasks"]["los"]["los"]["edges_source"] in ("train-split quartiles", "config remede.los.edges")
    for split in ("val", "test"):
        assert (root / "probe" / f"{split}.parquet").is_file()
    assert (root / "lm_eval" / "utils.py").is_file() and (root / "lm_eval" / "remede.yaml").is_file()
