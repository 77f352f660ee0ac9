"""Warmup + cosine schedule and the loss-spike detector."""

from __future__ import annotations

import math

import pytest
import torch

from lang1core.train.config import SpikeConfig
from lang1core.train.schedule import WarmupCosine, lr_at
from lang1core.train.spikes import SpikeDetector


def test_warmup_is_linear_then_cosine_reaches_the_floor():
    kw = dict(max_lr=1e-3, min_lr=4e-5, warmup_steps=10, total_steps=110)
    lrs = [lr_at(s, **kw) for s in range(120)]
    assert lrs[0] == pytest.approx(1e-4)  # the first update is not made with LR 0
    assert lrs[9] == pytest.approx(1e-3)
    assert all(b > a for a, b in zip(lrs[:10], lrs[1:10]))
    after = lrs[10:111]
    assert all(b <= a for a, b in zip(after, after[1:]))
    assert lrs[60] == pytest.approx(4e-5 + 0.5 * (1e-3 - 4e-5))  # halfway down the cosine
    assert lrs[110] == pytest.approx(4e-5) and lrs[119] == pytest.approx(4e-5)


def test_scheduler_refuses_a_resume_with_other_settings():
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(2))])
    a = WarmupCosine(opt, max_lr=1e-3, min_lr=1e-5, warmup_steps=5, total_steps=50)
    for _ in range(7):
        a.apply()
        a.step()
    b = WarmupCosine(opt, max_lr=1e-3, min_lr=1e-5, warmup_steps=5, total_steps=50)
    b.load_state_dict(a.state_dict())
    assert b.apply() == a.apply() == opt.param_groups[0]["lr"]
    c = WarmupCosine(opt, max_lr=2e-3, min_lr=1e-5, warmup_steps=5, total_steps=50)
    with pytest.raises(ValueError, match="max_lr"):
        c.load_state_dict(a.state_dict())


def test_spike_detector_flags_nan_and_jumps_only_after_its_window_fills():
    det = SpikeDetector(SpikeConfig(factor=2.0, window=5, skip_first=5))
    assert det.check(math.nan) == "non-finite"
    assert det.check(math.inf) == "non-finite"
    for loss in [4.0, 3.9, 3.8, 3.7, 3.6]:
        assert det.check(100.0) is None or det.seen < 5  # too early to judge
        det.accept(loss)
    assert det.check(3.9) is None
    assert det.check(7.0) is None  # below 2 x median 3.8
    assert det.check(8.0) == "spike"
    restored = SpikeDetector(det.cfg)
    restored.load_state_dict(det.state_dict())
    assert restored.check(8.0) == "spike" and restored.median() == det.median()
