"""FSDP2 on CPU: two gloo ranks give the same losses as one process (float32)."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from train_helpers import ArrayLoader

from lang1core.model import Llama, ModelConfig, hf

from lang1core.train import TrainConfig, Trainer
from lang1core.train.parallel import DistInfo

CFG = dict(tokens=6 * 8 * 16, seq_len=16, batch_size=8, micro_batch_size=4, lr=3e-3,
           warmup_steps=2, log_interval=1, eval_interval=3, eval_batches=2,
           checkpoint_every_tokens=3 * 8 * 16, n_snapshots=1, precision="fp32")


# untied: the two-rank run builds it on the meta device and initialises the shards
MODEL = ModelConfig(vocab_size=64, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=64,
                    max_seq_len=16, tie_embeddings=False, attention="sdpa", loss="torch")


def build_model():
    return Llama(MODEL)


def save_hf(model, out_dir, extra):
    hf.save_pretrained(model, out_dir, extra=extra)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world, port, run_dir, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        info = DistInfo(rank, rank, world, torch.device("cpu"))
        cfg = TrainConfig(**{**CFG, "micro_batch_size": CFG["batch_size"] // world})
        result = Trainer(cfg, build_model, ArrayLoader, run_dir, dist_info=info,
                         save_hf=save_hf, progress=False).fit()
        if rank == 0:
            torch.save(result.losses, out)
    finally:
        dist.destroy_process_group()


def test_two_gloo_ranks_match_one_process(tmp_path):
    torch.set_num_threads(1)
    single = Trainer(TrainConfig(**CFG), build_model, ArrayLoader, tmp_path / "one",
                     dist_info=DistInfo(0, 0, 1, torch.device("cpu")), save_hf=save_hf,
                     progress=False).fit()
    out = tmp_path / "losses.pt"
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path / "two"), str(out)), nprocs=2)
    two = torch.load(out)
    assert len(two) == 6
    assert two == pytest.approx(single.losses, rel=1e-5, abs=1e-6)
    # the sharded checkpoint (DCP, one shard file per rank) and an unsharded final model
    ck = sorted((tmp_path / "two" / "checkpoints").glob("step_*"))[-1]
    assert (ck / "rank0.pt").exists() and (ck / "rank1.pt").exists()
    a = hf.load_pretrained(tmp_path / "one" / "final").state_dict()
    b = hf.load_pretrained(tmp_path / "two" / "final").state_dict()
    assert a.keys() == b.keys()
    assert all(torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-6) for k in a)
    assert hf.read_lang1_json(tmp_path / "two" / "final")["tokens_seen"] == 6 * 8 * 16
