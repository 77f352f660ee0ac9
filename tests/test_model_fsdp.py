"""The model under FSDP2 with two gloo ranks on CPU: sharded init equals unsharded init, the
loss matches, and save_pretrained gathers the shards (rank 0 writes)."""

from __future__ import annotations

import os
import socket
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from lang1core.model import Llama, ModelConfig

CFG = dict(vocab_size=97, dim=32, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=64, max_seq_len=32)


def _worker(rank: int, world: int, port: int, out_dir: str):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        from torch.distributed.fsdp import fully_shard

        from lang1core.model.hf import save_pretrained

        with torch.device("meta"):
            model = Llama(ModelConfig(**CFG, tie_embeddings=True))
        for block in model.blocks:
            fully_shard(block)
        fully_shard(model)
        model.materialize("cpu", seed=9)
        x = torch.arange(2 * 11).view(2, 11) % 97
        loss = model.loss(x, x)
        loss.backward()
        save_pretrained(model, out_dir, extra={"loss": loss.item()})
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not dist.is_available() or sys.platform == "win32", reason="needs torch.distributed")
def test_fsdp_sharded_init_and_save(tmp_path):
    from lang1core.model.hf import load_pretrained, read_lang1_json

    out = tmp_path / "fsdp"
    mp.spawn(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    ref = Llama(ModelConfig(**CFG, tie_embeddings=True))
    ref.init_weights(9)
    back = load_pretrained(out)
    for k, v in ref.state_dict().items():
        assert torch.equal(back.state_dict()[k], v), k
    x = torch.arange(2 * 11).view(2, 11) % 97
    assert abs(read_lang1_json(out)["loss"] - ref.loss(x, x).item()) < 1e-5
