"""AUROC and its vectorised bootstrap against scikit-learn / scipy on identical resamples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from lang1core.evaluate.auroc import (
    BinaryAUROC,
    MulticlassAUROC,
    auroc,
    bootstrap_binary,
    bootstrap_multiclass,
    bootstrap_weights,
    percentile_ci,
)


def data(n, seed, p=0.2, ties=True):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < p).astype(int)
    s = rng.random(n) + 0.4 * y
    return (np.round(s, 1) if ties else s), y


@pytest.mark.parametrize("n,ties", [(7, True), (50, True), (1000, True), (1000, False)])
def test_auroc_matches_sklearn_with_ties_and_weights(n, ties):
    s, y = data(n, n, ties=ties)
    y[:2] = [0, 1]
    assert auroc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    w = np.random.default_rng(1).integers(0, 4, n).astype(float)
    w[:2] = 1
    assert auroc(y, s, w) == pytest.approx(roc_auc_score(y, s, sample_weight=w), abs=1e-12)


def test_bootstrap_equals_sklearn_on_the_same_resample_indices():
    s, y = data(400, 3)
    chunk = 64
    r = bootstrap_binary(s, y, 300, np.random.default_rng(11), chunk=chunk, keep_distribution=True)
    rng = np.random.default_rng(11)
    ref = []
    for start in range(0, 300, chunk):
        for idx in rng.integers(0, len(s), (min(chunk, 300 - start), len(s))):
            ref.append(roc_auc_score(y[idx], s[idx]))
    np.testing.assert_allclose(r.distribution, ref, atol=1e-12, rtol=0)
    low, high = np.percentile(ref, [2.5, 97.5])
    assert r.ci_low == pytest.approx(low, abs=1e-12) and r.ci_high == pytest.approx(high, abs=1e-12)
    assert r.estimate == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_interval_equals_scipy_bootstrap_percentile():
    s, y = data(300, 4)
    chunk = 50

    def stat(i, axis=-1):
        return roc_auc_score(y[i], s[i])

    ref = stats.bootstrap((np.arange(len(s)),), stat, n_resamples=200, batch=chunk, vectorized=False,
                          paired=True, method="percentile", rng=np.random.default_rng(5))
    r = bootstrap_binary(s, y, 200, np.random.default_rng(5), chunk=chunk)
    assert r.ci_low == pytest.approx(ref.confidence_interval.low, abs=1e-9)
    assert r.ci_high == pytest.approx(ref.confidence_interval.high, abs=1e-9)


def test_clustered_bootstrap_matches_a_slow_patient_loop():
    rng = np.random.default_rng(0)
    n_pat = 60
    patient = rng.integers(0, n_pat, 300)
    patient = np.unique(patient, return_inverse=True)[1]  # codes 0..P-1
    s, y = data(300, 6)
    r = bootstrap_binary(s, y, 100, np.random.default_rng(9), clusters=patient, chunk=30, keep_distribution=True)
    rows_of = [np.flatnonzero(patient == p) for p in range(patient.max() + 1)]
    g = np.random.default_rng(9)
    ref = []
    for start in range(0, 100, 30):
        for draw in g.integers(0, len(rows_of), (min(30, 100 - start), len(rows_of))):
            idx = np.concatenate([rows_of[p] for p in draw])
            ref.append(roc_auc_score(y[idx], s[idx]) if len(set(y[idx])) == 2 else np.nan)
    np.testing.assert_allclose(r.distribution, ref, atol=1e-12, rtol=0)


def test_clustered_differs_from_example_bootstrap_when_patients_repeat():
    # Each patient contributes 10 identical notes: the example bootstrap sees 10x the data
    # it really has; resampling patients gives an interval about sqrt(10) wider.
    s0, y0 = data(80, 7, p=0.3, ties=False)
    s, y = np.repeat(s0, 10), np.repeat(y0, 10)
    patient = np.repeat(np.arange(80), 10)
    ex = bootstrap_binary(s, y, 400, np.random.default_rng(1))
    cl = bootstrap_binary(s, y, 400, np.random.default_rng(1), clusters=patient)
    assert ex.estimate == cl.estimate
    assert (cl.ci_high - cl.ci_low) > 1.8 * (ex.ci_high - ex.ci_low)


def test_clusters_of_one_example_reproduce_the_example_bootstrap():
    s, y = data(200, 8)
    a = bootstrap_binary(s, y, 100, np.random.default_rng(2), keep_distribution=True, chunk=40)
    b = bootstrap_binary(s, y, 100, np.random.default_rng(2), clusters=np.arange(200), chunk=40,
                         keep_distribution=True)
    np.testing.assert_array_equal(a.distribution, b.distribution)


def test_weights_come_out_in_the_requested_order():
    order = np.random.default_rng(0).permutation(30)
    plain = np.concatenate(list(bootstrap_weights(30, 10, np.random.default_rng(3), chunk=4)))
    ordered = np.concatenate(list(bootstrap_weights(30, 10, np.random.default_rng(3), order=order, chunk=4)))
    np.testing.assert_array_equal(plain[:, order], ordered)
    assert (plain.sum(axis=1) == 30).all()


def test_single_class_is_nan_not_an_error():
    s = np.array([0.1, 0.5, 0.9])
    assert np.isnan(auroc(np.zeros(3, int), s))
    assert np.isnan(auroc(np.ones(3, int), s))
    r = bootstrap_binary(s, np.zeros(3, int), 50, np.random.default_rng(0))
    assert r.estimate is None and r.ci_low is None and r.n_valid == 0


def test_resamples_missing_a_class_are_counted_and_skipped():
    s, y = data(30, 9)
    y[:] = 0
    y[0] = 1  # one positive: about a third of resamples miss it
    r = bootstrap_binary(s, y, 300, np.random.default_rng(0))
    assert 0 < r.n_valid < 300
    assert r.ci_low is not None and r.ci_low <= r.ci_high
    assert percentile_ci(np.array([np.nan, np.nan]), 0.95) == (None, None)


def test_multiclass_macro_and_micro_match_sklearn():
    rng = np.random.default_rng(0)
    k, n = 4, 500
    labels = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), labels] += 1.0
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    macro, micro, per = MulticlassAUROC(probs, labels)()
    assert macro[0] == pytest.approx(roc_auc_score(labels, probs, multi_class="ovr", average="macro"), abs=1e-12)
    assert micro[0] == pytest.approx(roc_auc_score(labels, probs, multi_class="ovr", average="micro"), abs=1e-12)
    for c in range(k):
        assert per[0, c] == pytest.approx(roc_auc_score(labels == c, probs[:, c]), abs=1e-12)
    # bootstrap: every resample equals sklearn on the same indices
    r = bootstrap_multiclass(probs, labels, 40, np.random.default_rng(4), chunk=40)
    idx = np.random.default_rng(4).integers(0, n, (40, n))
    ref = [roc_auc_score(labels[i], probs[i], multi_class="ovr", average="macro") for i in idx]
    low, high = np.percentile(ref, [2.5, 97.5])
    assert r["macro_ci"][0] == pytest.approx(low, abs=1e-12) and r["macro_ci"][1] == pytest.approx(high, abs=1e-12)


def test_multiclass_absent_class_is_left_out_of_the_macro():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 200)  # class 3 of 4 never occurs
    probs = rng.dirichlet(np.ones(4), 200)
    r = bootstrap_multiclass(probs, labels, 20, np.random.default_rng(0))
    assert r["classes_evaluated"] == [0, 1, 2] and r["per_class"][3] is None
    expected = np.mean([roc_auc_score(labels == c, probs[:, c]) for c in range(3)])
    assert r["macro"] == pytest.approx(expected, abs=1e-12)
    assert r["class_counts"][3] == 0


def test_engine_rejects_nan_scores_with_a_message():
    with pytest.raises(ValueError, match="NaN"):
        BinaryAUROC(np.array([0.1, np.nan]), np.array([0, 1]))
