"""The corpus stage inside the workflow on the test config (slow: shares the full local run)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from workflow_run import TEST_CONFIG, results_root, snakemake

from lang1core.corpus.command import summary
from lang1core.data import ShardLoader

pytestmark = pytest.mark.slow


def test_corpus_outputs_reconcile_and_nothing_leaks(local_run):
    R = results_root(local_run)
    extract = json.loads((R / "corpus" / "extract_stats.json").read_text())
    clean = json.loads((R / "corpus" / "clean_stats.json").read_text())
    assert extract["rows_in_kept_notes"] + sum(extract["rejected_rows"].values()) == extract["export_rows"]
    assert clean["input_notes"] == extract["notes"] == clean["kept_notes"] + clean["dropped_notes"]
    assert clean["provenance"]["config_hash"]
    stats = pl.read_csv(R / "corpus" / "stats" / "corpus_stats.csv")
    assert stats.columns == ["dimension", "value", "notes", "words", "tokens"]
    assert stats.filter(pl.col("dimension") == "all")["notes"][0] == clean["kept_notes"]
    for mix in ("clinical_general", "general", "clinical"):
        m = json.loads((R / "corpus" / "pretrain" / mix / "mix_stats.json").read_text())
        assert sum(m["leak_check"].values()) == 0
        index = json.loads((R / "shards" / mix / "index.json").read_text())
        assert set(index["splits"]["train"]["sources"]) == set(m["weights"])
        x, y = next(ShardLoader(R / "shards" / mix, 64, 2, seed=1))
        assert x.shape == (2, 64) and int(x.max()) < index["vocab_size"]
    cg = json.loads((R / "corpus" / "pretrain" / "clinical_general" / "mix_stats.json").read_text())
    assert cg["clinical_exclusions"]["held_out_site"] > 0 and cg["clinical_exclusions"]["after_cutoff"] > 0
    notes = pl.read_parquet(R / "corpus" / "pretrain" / "clinical_general" / "train.parquet")
    assert "site_d" not in set(notes["site"].drop_nulls())
    assert "leaks 0" in summary(R)


def test_changing_the_tokenizer_reruns_only_what_reads_it(local_run):
    (local_run / "vocab.yaml").write_text("tokenizer:\n  vocab_size: 900\n")
    run = snakemake(local_run, "-n", "--cores", "1", *TEST_CONFIG, "vocab.yaml")
    assert run.returncode == 0, run.stderr
    plan = run.stdout + run.stderr
    assert "rule tokenizer:" in plan and "rule shards:" in plan
    for rule in ("corpus_extract", "corpus_clean", "corpus_general", "corpus_mix"):
        assert f"rule {rule}:" not in plan
