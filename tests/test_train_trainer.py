"""The training loop on CPU: metrics, snapshots, accumulation, rollback, early stop, OOM."""

from __future__ import annotations

import math

import pytest
import torch

from train_helpers import ArrayLoader, build_model, save_hf

from lang1core.train import TrainConfig, Trainer, TrainingFailed
from lang1core.train.metrics import COLUMNS, read_metrics
from lang1core.train.parallel import DistInfo

CPU = DistInfo(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
BASE = dict(tokens=20 * 8 * 16, seq_len=16, batch_size=8, micro_batch_size=4, lr=1e-2,
            warmup_steps=2, log_interval=1, eval_interval=5, eval_batches=2,
            checkpoint_every_tokens=5 * 8 * 16, n_snapshots=2)


def _trainer(tmp_path, loader=ArrayLoader, model=build_model, **overrides):
    torch.set_num_threads(1)
    cfg = TrainConfig(**{**BASE, **overrides})
    return Trainer(cfg, model, loader, tmp_path, dist_info=CPU, save_hf=save_hf,
                   progress=False, label="tiny")


def test_fit_logs_metrics_writes_snapshots_and_final(tmp_path):
    result = _trainer(tmp_path).fit()
    assert result.step == 20 and result.tokens == 20 * 8 * 16
    rows = read_metrics(tmp_path / "metrics.csv")
    assert list(rows[0]) == COLUMNS
    train = [r for r in rows if r["kind"] == "train"]
    assert [int(r["step"]) for r in train] == list(range(1, 21))
    assert float(train[-1]["loss"]) < float(train[0]["loss"]) - 0.5  # it learns
    assert all(float(r["tokens_per_s"]) > 0 and float(r["grad_norm"]) > 0 for r in train)
    assert float(train[0]["lr"]) == pytest.approx(5e-3)  # warmup step 1 of 2
    # Step 0 is the untrained model's validation loss: where the run started.
    assert [int(r["step"]) for r in rows if r["kind"] == "val"] == [0, 5, 10, 15, 20]
    import json
    snaps = [json.loads((tmp_path / "snapshots" / str(i) / "lang1.json").read_text())
             for i in (1, 2)]
    assert [s["tokens_seen"] for s in snaps] == [10 * 128, 20 * 128]
    final = json.loads((tmp_path / "final" / "lang1.json").read_text())
    assert final["tokens_seen"] == 20 * 128 and final["rollbacks"] == 0


def test_gradient_accumulation_matches_one_big_batch(tmp_path):
    a = _trainer(tmp_path / "a", micro_batch_size=4, tokens=4 * 8 * 16).fit()
    b = _trainer(tmp_path / "b", micro_batch_size=8, tokens=4 * 8 * 16).fit()
    assert a.losses == pytest.approx(b.losses, rel=1e-5)


def test_injected_nan_rolls_back_and_skips_the_window(tmp_path):
    trainer = _trainer(tmp_path)
    seen = []
    injected = []

    class Recording(ArrayLoader):
        def __next__(self):
            seen.append(self.pos)
            return super().__next__()

    def model_with_nan():
        model = build_model()
        real = model.loss

        def loss(x, y, **kw):
            out = real(x, y, **kw)
            # the forward of optimizer step 14 (13 done), once
            if trainer.step == 13 and model.training and not injected:
                injected.append(True)
                return out * math.nan
            return out

        model.loss = loss
        return model

    trainer.build_model = model_with_nan
    trainer.make_loader = lambda split, *a: (Recording if split == "train" else ArrayLoader)(split, *a)
    result = trainer.fit()
    assert injected and result.rollbacks == 1 and result.step == 20
    assert len(result.losses) == 20 and all(math.isfinite(x) for x in result.losses)
    rows = read_metrics(tmp_path / "metrics.csv")
    events = [r for r in rows if r["kind"] == "event"]
    assert [(e["name"], e["step"], e["value"]) for e in events] == [("rollback:non-finite", "10", "14")]
    train = [r for r in rows if r["kind"] == "train"]
    assert [int(r["step"]) for r in train] == list(range(1, 21))  # abandoned 11-13 dropped
    assert all(math.isfinite(float(r["loss"])) for r in train)
    # the window is skipped, not replayed: no training batch is used twice, and the 4
    # steps x 2 micro-batches between the checkpoint and the NaN were passed over
    assert len(seen) == len(set(seen)) == 20 * 2 + 4 * 2


def test_too_many_rollbacks_fail_with_a_message(tmp_path):
    def always_nan():
        model = build_model()
        real = model.loss
        model.loss = lambda x, y, **kw: real(x, y) * math.nan
        return model

    with pytest.raises(TrainingFailed, match="max_rollbacks"):
        _trainer(tmp_path, model=always_nan).fit()


def test_early_stopping_on_validation_loss(tmp_path):
    # LR 0 after warmup-free start: validation loss cannot improve after the first pass
    result = _trainer(tmp_path, lr=1e-12, min_lr=0.0, patience=2).fit()
    assert result.early_stopped and result.step == 15
    events = read_metrics(tmp_path / "metrics.csv", "event")
    assert events[-1]["name"] == "early_stop"
    assert (tmp_path / "snapshots" / "2" / "lang1.json").exists()  # still all snapshots


def test_out_of_memory_names_preset_batch_and_memory(tmp_path):
    def oom_model():
        model = build_model()

        def loss(x, y, **kw):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

        model.loss = loss
        return model

    with pytest.raises(TrainingFailed) as err:
        _trainer(tmp_path, model=oom_model).fit()
    msg = str(err.value)
    assert "tiny" in msg and "micro_batch_size 4" in msg and "global batch 8" in msg
    assert "CPU" in msg and "GB" in msg


def test_eval_hook_runs_at_snapshots_and_lands_in_metrics(tmp_path):
    calls = []

    def hook(model, step, tokens):
        calls.append((step, tokens, model.training))
        return {"readmission_auroc": 0.5 + step / 100}

    trainer = _trainer(tmp_path)
    trainer.eval_hook = hook
    trainer.fit()
    assert [c[:2] for c in calls] == [(10, 1280), (20, 2560)]
    rows = read_metrics(tmp_path / "metrics.csv", "eval")
    assert [(r["step"], r["name"], float(r["value"])) for r in rows] == [
        ("10", "readmission_auroc", 0.6), ("20", "readmission_auroc", 0.7)]


def test_activation_checkpointing_gives_the_same_losses(tmp_path):
    from lang1core.model import Llama, ModelConfig

    cfg = ModelConfig(vocab_size=64, dim=32, n_layers=2, n_heads=4, n_kv_heads=2,
                      hidden_dim=64, max_seq_len=16)
    plain = _trainer(tmp_path / "a", model=lambda: Llama(cfg), tokens=3 * 8 * 16).fit()
    ac = _trainer(tmp_path / "b", model=lambda: Llama(cfg), tokens=3 * 8 * 16,
                  activation_checkpointing=True).fit()
    assert ac.losses == pytest.approx(plain.losses, rel=1e-6)
