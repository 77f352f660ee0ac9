"""Tokenizer, token shards and the ShardLoader: determinism, EOS layout, exact resume, ranks."""

from __future__ import annotations

import json
import random

import numpy as np
import polars as pl
import pytest
import sentencepiece as spm

from lang1core.corpus.mix import MIX_COLUMNS
from lang1core.corpus.shards import token_dtype, write_shards
from lang1core.corpus.tokenizer import describe, sample_lines, train_tokenizer, use_existing
from lang1core.data import ShardLoader, feistel_permute

WORDS = ("patient admitted with chest pain and shortness of breath was treated discharged home stable "
         "follow up clinic heart failure pneumonia antibiotics oxygen the of and to in for on with").split()


def docs(source: str, n: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120))) + f". Visit {i}." for i in range(n)]
    df = pl.DataFrame({"doc_id": [f"{source}:{i}" for i in range(n)], "source": [source] * n, "text": texts})
    return df.with_columns(*[pl.lit(None, d).alias(c) for c, d in MIX_COLUMNS.items() if c not in df.columns]
                           ).select(list(MIX_COLUMNS))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    train = pl.concat([docs("clinical", 300, 1), docs("general", 100, 2)])
    train.write_parquet(root / "train.parquet")
    docs("clinical", 10, 3).write_parquet(root / "val.parquet")
    weights = {"clinical": 1, "general": 1}
    lines = sample_lines(root / "train.parquet", weights, 200_000, seed=0)
    info = train_tokenizer(lines, root / "tok" / "spm.model", 400, threads=1)
    index = write_shards({"train": root / "train.parquet", "val": root / "val.parquet"}, root / "tok" / "spm.model",
                         root / "mix", weights, shard_tokens=5000, batch_docs=64)
    return root, info, index, train


def test_tokenizer_is_bpe_with_byte_fallback(built):
    root, info, _, _ = built
    sp = spm.SentencePieceProcessor(model_file=str(root / "tok" / "spm.model"))
    assert info["vocab_size"] == sp.get_piece_size() <= 400 and info["eos_id"] == sp.eos_id() == 2
    text = "patient \u00e9 123\nnew line"
    assert sp.decode(sp.encode(text)) == text          # byte fallback: nothing is unknown
    assert sp.unk_id() not in sp.encode(text)
    assert [p for p in sp.encode("123", out_type=str) if p.strip("\u2581")] == ["1", "2", "3"]  # split digits
    copy = use_existing(root / "tok" / "spm.model", root / "copy" / "spm.model")
    assert copy["sha256"] == describe(root / "tok" / "spm.model")["sha256"]


def test_shards_hold_every_document_then_eos(built):
    root, _, index, train = built
    sp = spm.SentencePieceProcessor(model_file=str(root / "tok" / "spm.model"))
    assert index["dtype"] == "uint16" and index["eos_id"] == sp.eos_id()
    src = index["splits"]["train"]["sources"]["clinical"]
    assert len(src["files"]) > 1                       # rolled over at shard_tokens
    assert src["weight"] == 0.5 and src["documents"] == 300
    tokens = np.concatenate([np.fromfile(root / "mix" / f["path"], dtype=np.uint16) for f in src["files"]])
    assert tokens.size == src["tokens"] == sum(f["tokens"] for f in src["files"])
    ends = np.flatnonzero(tokens == sp.eos_id())
    assert ends.size == 300 and ends[-1] == tokens.size - 1
    for f in src["files"]:   # every file closes at a document boundary, just past shard_tokens
        part = np.fromfile(root / "mix" / f["path"], dtype=np.uint16)
        assert part[-1] == sp.eos_id() and (part == sp.eos_id()).sum() == f["documents"]
    assert all(f["tokens"] >= 5000 for f in src["files"][:-1])
    texts = train.filter(pl.col("source") == "clinical")["text"].to_list()
    pieces = np.split(tokens, ends[:-1] + 1)
    assert [sp.decode(p[:-1].tolist()) for p in pieces] == texts
    on_disk = json.loads((root / "mix" / "index.json").read_text())
    assert on_disk["splits"]["val"]["documents"] == 10 and on_disk["tokenizer_sha256"]


def test_rerun_writes_byte_identical_shards(built, tmp_path):
    root, _, index, _ = built
    again = write_shards({"train": root / "train.parquet", "val": root / "val.parquet"}, root / "tok" / "spm.model",
                         tmp_path / "mix", {"clinical": 1, "general": 1}, shard_tokens=5000, batch_docs=17, threads=2)
    assert again["splits"] == index["splits"]
    for f in (root / "mix").rglob("*.bin"):
        assert (tmp_path / "mix" / f.relative_to(root / "mix")).read_bytes() == f.read_bytes()


def test_token_dtype_widens_for_large_vocabularies():
    assert token_dtype(32000) == np.uint16 and token_dtype(65536) == np.uint16 and token_dtype(65537) == np.uint32


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 1000, 4097])
def test_feistel_is_a_permutation(n):
    p = feistel_permute(np.arange(n), n, np.array([5, 6, 7, 8], dtype=np.uint64))
    assert sorted(p.tolist()) == list(range(n))


def batches(loader, n):
    return [next(loader) for _ in range(n)]


def test_loader_windows_are_shifted_and_deterministic(built):
    root = built[0] / "mix"
    a = batches(ShardLoader(root, 32, 4, seed=7), 5)
    b = batches(ShardLoader(root / "train", 32, 4, seed=7), 5)
    c = batches(ShardLoader(root, 32, 4, seed=8), 5)
    for (x, y), (x2, y2) in zip(a, b):
        assert x.shape == y.shape == (4, 32) and x.dtype == torch_int64()
        assert torch_equal(x, x2) and torch_equal(y, y2)
        assert torch_equal(x[:, 1:], y[:, :-1])
    assert not all(torch_equal(x, x2) for (x, _), (x2, _) in zip(a, c))
    assert ShardLoader(root, 32, 4).tokens_per_batch == 128


def test_resume_from_state_dict_is_exact(built):
    root = built[0] / "mix"
    full = ShardLoader(root, 16, 3, seed=1)
    expected = batches(full, 40)        # long enough to wrap the small source's epoch
    first = ShardLoader(root, 16, 3, seed=1)
    batches(first, 17)
    state = json.loads(json.dumps(first.state_dict()))      # survives a checkpoint file
    resumed = ShardLoader(root, 16, 3, seed=1)
    resumed.load_state_dict(state)
    for (x, y), (x2, y2) in zip(expected[17:], batches(resumed, 23)):
        assert torch_equal(x, x2) and torch_equal(y, y2)
    sought = ShardLoader(root, 16, 3, seed=1)
    sought.seek(17)
    assert sought.state_dict() == state
    with pytest.raises(ValueError, match="seq_len"):
        ShardLoader(root, 8, 3, seed=1).load_state_dict(state)


def test_ranks_split_the_global_batch_without_overlap(built):
    root = built[0] / "mix"
    T = 16
    single = ShardLoader(root, T, 4, seed=3)
    ranks = [ShardLoader(root, T, 2, rank=r, world_size=2, seed=3) for r in range(2)]
    seen = set()
    for _ in range(10):
        x, _ = next(single)
        parts = [next(r)[0] for r in ranks]
        assert torch_equal(x[:2], parts[0]) and torch_equal(x[2:], parts[1])
        for row in x:
            key = tuple(row.tolist())
            assert key not in seen            # no window twice within an epoch of either source
            seen.add(key)
    with pytest.raises(ValueError, match="rank"):
        ShardLoader(root, T, 2, rank=2, world_size=2)


def test_sources_are_drawn_by_weight(built):
    root = built[0] / "mix"
    eq = ShardLoader(root, 16, 64, seed=0)
    eq_draws = np.concatenate([eq._choices(g) for g in range(50)])
    assert abs(eq_draws.mean() - 0.5) < 0.05
    skew = ShardLoader(root, 16, 64, seed=0, weights={"clinical": 3, "general": 1})
    assert skew.sources == ["clinical", "general"]
    draws = np.concatenate([skew._choices(g) for g in range(50)])
    assert abs((draws == 0).mean() - 0.75) < 0.05
    only = ShardLoader(root, 16, 8, seed=0, weights={"general": 1})
    assert only.sources == ["general"]


def test_loader_errors_name_the_problem(built, tmp_path):
    root = built[0] / "mix"
    with pytest.raises(FileNotFoundError, match="index.json"):
        ShardLoader(tmp_path, 16, 2)
    with pytest.raises(ValueError, match="window of"):
        ShardLoader(root, 100_000, 2, split="val")


def torch_int64():
    import torch

    return torch.int64


def torch_equal(a, b) -> bool:
    import torch

    return bool(torch.equal(a, b))
