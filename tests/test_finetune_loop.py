"""Finetuning: beats chance on a learnable task, joint batches mix tasks evenly, LoRA
trains only adapters, the LR search resumes after an interruption."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from finetune_helpers import note, tiny_model
from lang1core.finetune.data import TaskData, auroc
from lang1core.finetune.lora import LoRALinear, apply_lora, merge_lora
from lang1core.finetune.loop import LoopConfig, _Cycler, encode_all, finetune, mixed_batch
from lang1core.finetune.scoring import score
from lang1core.finetune.search import lr_search
from lang1core.remede.tasks import TASKS


pytestmark = pytest.mark.usefixtures("one_thread")


def make_data(n: int, seed: int, task: str = "mortality") -> TaskData:
    import random

    rng = random.Random(seed)
    labels = np.array([rng.randint(0, 1) for _ in range(n)])
    t = TASKS[task]
    return TaskData(task, [str(i) for i in range(n)], [str(i) for i in range(n)],
                    [note(rng, int(y), signal=1.0) for y in labels], labels, t.question,
                    list(t.options))


def test_finetuned_model_beats_chance(tok):
    # The keyword decides the label (oracle AUROC 1): finetuning must find it.
    tr, va, te = make_data(160, 1), make_data(40, 2), make_data(80, 3)
    model = tiny_model(tok.vocab_size, seed=1)
    enc = lambda d: encode_all(tok, d, 512, 512)
    te_enc = enc(te)
    before = auroc(te.labels, score(model, te_enc, tok.pad_id)[0])
    cfg = LoopConfig(lr=3e-3, max_steps=120, batch_size=16, eval_every=30, patience=1000)
    r = finetune(model, tok, {"mortality": enc(tr)}, {"mortality": enc(va)}, cfg)
    after = auroc(te.labels, score(model, te_enc, tok.pad_id)[0])
    assert after > 0.85, (before, after, r.curve)
    assert r.best_step > 0 and r.tokens > 0
    # The best checkpoint is the one restored: its validation metric is reproduced.
    val_now = auroc(va.labels, score(model, enc(va), tok.pad_id)[0])
    assert val_now == pytest.approx(r.best_metric, abs=1e-6)


def test_early_stopping_respects_patience(tok):
    tr, va = make_data(32, 4), make_data(16, 5)
    model = tiny_model(tok.vocab_size)
    cfg = LoopConfig(lr=0.0, max_steps=50, batch_size=4, eval_every=2, patience=6)
    r = finetune(model, tok, {"m": encode_all(tok, tr, 64, 512)},
                 {"m": encode_all(tok, va, 64, 512)}, cfg)
    # lr 0 never improves on step 0, so training stops after `patience` steps.
    assert r.best_step == 0 and r.steps == 6


def test_joint_batches_mix_tasks_evenly():
    train = {"a": list(range(10)), "b": list(range(100, 103)), "c": list(range(200, 250))}
    rng = np.random.default_rng(0)
    cyclers = {t: _Cycler(len(train[t]), np.random.default_rng(i)) for i, t in enumerate(train)}
    for _ in range(20):
        batch = mixed_batch(train, list(train), cyclers, 4, 0, rng)
        assert len(batch) == 12
        assert sum(x < 100 for x in batch) == 4 and sum(x >= 200 for x in batch) == 4
    batch = mixed_batch(train, list(train), cyclers, 2, 2, rng)  # batch 8 over 3 tasks
    counts = sorted([sum(x < 100 for x in batch), sum(100 <= x < 200 for x in batch),
                     sum(x >= 200 for x in batch)])
    assert counts == [2, 3, 3]


def test_lora_trains_only_adapters(tok):
    model = tiny_model(tok.vocab_size, seed=2)
    x = torch.randint(0, tok.vocab_size, (2, 12))
    with torch.no_grad():
        base_out = model(x)
    n = apply_lora(model, ("q", "v"), rank=8, alpha=16, dropout=0.05)
    assert n == 2 * model.config.n_layers
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in name for name in trainable)
    model.eval()
    with torch.no_grad():  # B = 0 at init: the wrapped model equals the base model
        torch.testing.assert_close(model(x), base_out)
    frozen = {k: v.clone() for k, v in model.state_dict().items() if "lora_" not in k}
    tr, va = make_data(32, 6), make_data(16, 7)
    finetune(model, tok, {"m": encode_all(tok, tr, 64, 512)}, {"m": encode_all(tok, va, 64, 512)},
             LoopConfig(lr=1e-2, max_steps=5, batch_size=4, eval_every=5, restore_best=False))
    for k, v in model.state_dict().items():
        if "lora_" not in k:
            torch.testing.assert_close(v, frozen[k], msg=f"{k} changed")
    assert any(float(m.lora_b.detach().abs().sum()) > 0 for m in model.modules()
               if isinstance(m, LoRALinear))
    model.eval()
    with torch.no_grad():
        wrapped = model(x)
    merge_lora(model)
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    with torch.no_grad():
        torch.testing.assert_close(model(x), wrapped, rtol=1e-4, atol=1e-5)


def test_interrupted_search_resumes(tmp_path):
    calls = []

    def objective(lr):
        calls.append(lr)
        if len(calls) == 2 and not resumed:
            raise KeyboardInterrupt  # the process is killed mid-trial
        return -abs(np.log10(lr) + 4), {"steps": 3}

    resumed = False
    with pytest.raises(KeyboardInterrupt):
        lr_search(objective, tmp_path / "search.db", tmp_path / "search.csv", n_trials=3, seed=7)
    first = list(calls)
    resumed = True
    best = lr_search(objective, tmp_path / "search.db", tmp_path / "search.csv", n_trials=3,
                     seed=7)
    # Trial 1 was kept (not rerun); the killed slot is retried with the same rate.
    assert calls[2] == first[1] and len(calls) == 4
    assert all(1e-6 <= lr <= 1e-3 for lr in calls)
    rows = list(csv.DictReader(open(tmp_path / "search.csv")))
    assert [r["state"] for r in rows].count("COMPLETE") == 3
    assert [r["state"] for r in rows].count("FAIL") == 1
    assert best in calls
    # A finished search does nothing more.
    lr_search(objective, tmp_path / "search.db", tmp_path / "search.csv", n_trials=3, seed=7)
    assert len(calls) == 4


def test_subsets_are_nested_and_seeded():
    d = make_data(50, 9)
    small, large = d.sample(10, 3), d.sample(30, 3)
    assert set(small.example_ids) < set(large.example_ids)
    assert d.sample(10, 3).example_ids == small.example_ids
    assert d.sample(None, 3) is d and d.sample(80, 3) is d


def test_a_capped_sample_keeps_the_rare_class():
    # 190 examples, 10 positive: every seed's 32-example sample holds about 32 * 10/190
    # positives, never none (a plain random sample misses them all about 15% of the time).
    t = TASKS["mortality"]
    labels = np.array([1] * 10 + [0] * 180)
    ids = [str(i) for i in range(190)]
    d = TaskData("mortality", ids, ids, ["note"] * 190, labels, t.question, list(t.options))
    for seed in range(50):
        positives = int(np.asarray(d.sample(32, seed).labels).sum())
        assert 1 <= positives <= 2, (seed, positives)


def test_validation_with_too_few_of_a_class_is_judged_by_likelihood(tok):
    # An AUROC from a handful of positives is noise, and early stopping on it keeps whichever
    # step drew lucky; below min_class_examples the gold letter's log-likelihood decides.
    from lang1core.finetune.loop import validation_metric

    model = tiny_model(tok.vocab_size, seed=2)
    data = make_data(40, 6)
    assert np.bincount(data.labels).min() >= 10
    few = TaskData(data.task, data.example_ids, data.patient_ids, data.texts,
                   np.where(np.arange(40) < 3, 1, 0), data.question, data.options)
    for d, expect_auroc in ((data, True), (few, False)):
        enc = encode_all(tok, d, 64, 512)
        probs = score(model, enc, tok.pad_id)[0]
        loglik = float(np.mean(np.log(probs[np.arange(len(enc)), d.labels] + 1e-12)))
        got = validation_metric(model, tok, {"m": enc}, 16, min_class_examples=10)
        assert got == pytest.approx(auroc(d.labels, probs) if expect_auroc else loglik, abs=1e-6)
