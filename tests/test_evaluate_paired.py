"""The paired, patient-clustered bootstrap behind every difference in the claims report."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from lang1core.evaluate.auroc import bootstrap_binary
from lang1core.evaluate.paired import Block, paired_aurocs, paired_interval, resample_weights

DIFF = lambda a: a[:, 0] - a[:, 1]


def binary(scores: np.ndarray) -> np.ndarray:
    """[n] scores in 0..1 -> [n, 2] probabilities."""
    return np.stack([1 - scores, scores], axis=1)


def data(n: int = 400, per_patient: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    patients = np.array([f"p{i // per_patient:05d}" for i in range(n)])
    noisy = 1 / (1 + np.exp(-(labels * 1.0 + rng.normal(size=n))))
    return labels, patients, noisy, rng


def width(iv) -> float:
    return iv.hi - iv.lo


def test_identical_models_differ_by_exactly_zero_in_every_resample():
    labels, patients, s, _ = data()
    iv = paired_interval([Block(labels, patients, [binary(s), binary(s)])], DIFF, 300,
                         np.random.default_rng(1))
    assert iv.estimate == 0 and iv.lo == 0 and iv.hi == 0 and iv.n_valid == 300


def test_equally_good_models_give_an_interval_around_zero():
    labels, patients, s, rng = data(n=600)
    other = s.copy()  # the same scores dealt to other examples of the same class: equal AUROC
    for c in (0, 1):
        other[labels == c] = rng.permutation(s[labels == c])
    iv = paired_interval([Block(labels, patients, [binary(s), binary(other)])], DIFF, 500,
                         np.random.default_rng(2))
    assert iv.estimate == pytest.approx(0, abs=1e-12)
    assert iv.lo < 0 < iv.hi


def test_a_model_better_on_every_patient_has_an_interval_above_zero():
    labels, patients, s, _ = data()
    # Adding to every positive's score can only fix mis-ordered pairs, on any resample.
    better = np.clip(s + 0.3 * labels, 0, 1)
    point, draws = paired_aurocs([Block(labels, patients, [binary(better), binary(s)])], 300,
                                 np.random.default_rng(3))
    assert (draws[:, 0] >= draws[:, 1]).all()
    iv = paired_interval([Block(labels, patients, [binary(better), binary(s)])], DIFF, 300,
                         np.random.default_rng(3))
    assert iv.lo > 0
    assert iv.estimate == pytest.approx(roc_auc_score(labels, better) - roc_auc_score(labels, s))


def test_pairing_makes_a_difference_narrower_than_either_auroc():
    labels, patients, s, rng = data()
    close = np.clip(s + rng.normal(0, 0.05, len(s)), 0, 1)  # a near copy: errors are shared
    blocks = [Block(labels, patients, [binary(s), binary(close)])]
    diff = paired_interval(blocks, DIFF, 400, np.random.default_rng(4))
    alone = paired_interval(blocks, lambda a: a[:, 0], 400, np.random.default_rng(4))
    assert width(diff) < width(alone) / 3


def test_clustering_widens_the_interval_when_a_patients_examples_are_duplicated():
    labels, _, s, rng = data(n=200, per_patient=1)
    other = 1 / (1 + np.exp(-(labels * 0.5 + rng.normal(size=len(labels)))))
    once = Block(labels, np.array([f"p{i:05d}" for i in range(200)]), [binary(s), binary(other)])
    rep = 5  # every patient's example copied five times: no new information
    dup = Block(np.repeat(labels, rep), np.repeat(once.patients, rep),
                [binary(np.repeat(s, rep)), binary(np.repeat(other, rep))])
    base = paired_interval([once], DIFF, 600, np.random.default_rng(5))
    clustered = paired_interval([dup], DIFF, 600, np.random.default_rng(5), cluster=True)
    naive = paired_interval([dup], DIFF, 600, np.random.default_rng(5), cluster=False)
    assert width(clustered) > 1.6 * width(naive)  # sqrt(5) ~ 2.2 in expectation
    assert 0.75 < width(clustered) / width(base) < 1.33  # copies add no precision
    assert clustered.n_patients == 200 and clustered.n == 1000


def test_blocks_sharing_patients_are_resampled_together():
    labels, patients, s, _ = data()
    same = [Block(labels, patients, [binary(s)]), Block(labels, patients, [binary(s)])]
    renamed = [same[0], Block(labels, np.char.add("q", patients), [binary(s)])]
    shared = paired_interval(same, DIFF, 200, np.random.default_rng(6))
    apart = paired_interval(renamed, DIFF, 200, np.random.default_rng(6))
    assert shared.lo == shared.hi == 0  # one draw of patients weights both blocks alike
    assert apart.lo < 0 < apart.hi
    assert apart.n_patients == 2 * shared.n_patients


def test_one_model_matches_the_evaluate_stages_clustered_interval():
    labels, patients, s, _ = data(n=300, per_patient=3)
    iv = paired_interval([Block(labels, patients, [binary(s)])], lambda a: a[:, 0], 250,
                         np.random.default_rng(7), level=0.9)
    codes = np.unique(patients, return_inverse=True)[1]
    ref = bootstrap_binary(s, labels, 250, np.random.default_rng(7), level=0.9, clusters=codes)
    assert (iv.estimate, iv.lo, iv.hi) == pytest.approx((ref.estimate, ref.ci_low, ref.ci_high))


def test_multiclass_blocks_use_macro_auroc_and_single_class_is_undefined():
    rng = np.random.default_rng(8)
    labels = rng.integers(0, 4, 300)
    logits = rng.normal(size=(300, 4))
    logits[np.arange(300), labels] += 1.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    patients = np.array([f"p{i:04d}" for i in range(300)])
    point, _ = paired_aurocs([Block(labels, patients, [probs])], 10, rng)
    assert point[0] == pytest.approx(roc_auc_score(labels, probs, multi_class="ovr", average="macro"))
    one = paired_interval([Block(np.zeros(50, int), patients[:50], [binary(rng.random(50))])],
                          lambda a: a[:, 0], 10, rng)
    assert one.estimate is None and one.lo is None


def test_chunking_bounds_memory_without_changing_the_result():
    labels, patients, s, rng = data(n=300)
    other = np.clip(s + rng.normal(0, 0.1, len(s)), 0, 1)
    blocks = [Block(labels, patients, [binary(s), binary(other)])]
    big = paired_interval(blocks, DIFF, 200, np.random.default_rng(9))
    small = paired_interval(blocks, DIFF, 200, np.random.default_rng(9), max_elements=1000)
    assert (big.lo, big.hi) == (small.lo, small.hi)


def test_block_rejects_misaligned_probabilities():
    with pytest.raises(ValueError, match="model 1"):
        Block(np.zeros(4, int), np.arange(4), [np.zeros((4, 2)), np.zeros((3, 2))])


def test_resampling_weights_patients_alike_across_blocks_or_keeps_each_blocks_size():
    a = Block(np.array([0, 1, 0, 1]), np.array(["p1", "p1", "p2", "p3"]), [binary(np.full(4, 0.5))])
    b = Block(np.array([1, 0, 0]), np.array(["p2", "p3", "p4"]), [binary(np.full(3, 0.5))])
    w = np.concatenate(list(resample_weights([a, b], 50, np.random.default_rng(10), chunk=7)))
    assert w.shape == (50, 7)
    assert (w[:, 0] == w[:, 1]).all()  # p1's two stays
    assert (w[:, 2] == w[:, 4]).all() and (w[:, 3] == w[:, 5]).all()  # p2, p3 in both blocks
    assert (w.sum(axis=1) != 7).any()  # patients, not examples, are drawn
    w = np.concatenate(list(resample_weights([a, b], 50, np.random.default_rng(10), cluster=False, chunk=7)))
    assert (w[:, :4].sum(axis=1) == 4).all() and (w[:, 4:].sum(axis=1) == 3).all()
