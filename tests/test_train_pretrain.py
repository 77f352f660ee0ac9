"""pretrain(): the Llama debug preset on real token shards writes HF final/ and snapshots."""

from __future__ import annotations

import random

import polars as pl
import pytest
import torch

from lang1core.corpus.shards import write_shards
from lang1core.corpus.tokenizer import train_tokenizer
from lang1core.model import hf
from lang1core.train.metrics import read_metrics
from lang1core.train.pretrain import pretrain

WORDS = ("patient admitted with chest pain discharged home stable follow up clinic "
         "history of diabetes hypertension renal failure note plan").split()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    rng = random.Random(0)
    docs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60))) for _ in range(300)]
    train_tokenizer(docs, root / "spm.model", vocab_size=300)
    parts = {}
    for split, rows in (("train", docs[:260]), ("val", docs[260:])):
        parts[split] = root / f"{split}.parquet"
        pl.DataFrame({"source": ["clinical"] * len(rows), "text": rows}).write_parquet(parts[split])
    write_shards(parts, root / "spm.model", root / "shards", weights={"clinical": 1.0})
    return root


def test_pretrain_debug_preset_writes_hf_final_and_snapshots(tmp_path, corpus):
    torch.set_num_threads(1)
    train = dict(tokens=6 * 4 * 32, seq_len=32, batch_size=4, micro_batch_size=2,
                 warmup_steps=1, log_interval=2, eval_interval=3, eval_batches=1,
                 checkpoint_every_tokens=3 * 4 * 32, n_snapshots=3, seed=3407)
    result = pretrain(run_dir=str(tmp_path), shard_dir=str(corpus / "shards"),
                      tokenizer_model=str(corpus / "spm.model"), model_section={},
                      preset="debug", train=train, label="lang1", provenance={"seed": 3407},
                      progress=False)
    assert result.step == 6
    model = hf.load_pretrained(tmp_path / "final")
    assert model.config.vocab_size == 300 and model.config.dim == 128  # debug preset, our vocab
    assert (tmp_path / "final" / "tokenizer.model").read_bytes() == (corpus / "spm.model").read_bytes()
    meta = hf.read_lang1_json(tmp_path / "final")
    assert meta["tokens_seen"] == 6 * 4 * 32 and meta["preset"] == "debug"
    assert meta["provenance"] == {"seed": 3407}
    seen = [hf.read_lang1_json(tmp_path / "snapshots" / str(i))["tokens_seen"] for i in (1, 2, 3)]
    assert seen == [2 * 128, 4 * 128, 6 * 128]
    # the last snapshot is the final model
    a, b = model.state_dict(), hf.load_pretrained(tmp_path / "snapshots" / "3").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    val = read_metrics(tmp_path / "metrics.csv", "val")
    assert [int(r["step"]) for r in val] == [0, 3, 6]  # 0: the untrained model


def test_seq_len_beyond_the_preset_is_refused(tmp_path, corpus):
    with pytest.raises(ValueError, match="max_seq_len 256"):
        pretrain(run_dir=str(tmp_path), shard_dir=str(corpus / "shards"),
                 tokenizer_model=str(corpus / "spm.model"), model_section={}, preset="debug",
                 train=dict(seq_len=512), label="lang1")


def test_launch_with_two_processes_runs_torchrun_fsdp(tmp_path, corpus, monkeypatch):
    from lang1core.train.pretrain import launch

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    train = dict(tokens=4 * 4 * 32, seq_len=32, batch_size=4, micro_batch_size=2,
                 warmup_steps=1, log_interval=1, eval_interval=2, eval_batches=1,
                 checkpoint_every_tokens=2 * 4 * 32, n_snapshots=1, seed=3407)
    launch(dict(run_dir=str(tmp_path), shard_dir=str(corpus / "shards"),
                tokenizer_model=str(corpus / "spm.model"), model_section={}, preset="debug",
                train=train, label="lang1", progress=False), gpus=2)
    assert hf.read_lang1_json(tmp_path / "final")["tokens_seen"] == 4 * 4 * 32
    ck = sorted((tmp_path / "checkpoints").glob("step_*"))[-1]
    assert (ck / "rank1.pt").exists()
    assert len(read_metrics(tmp_path / "metrics.csv", "train")) == 4
