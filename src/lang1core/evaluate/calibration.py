"""Reliability curves and expected calibration error (ECE), equal-width bins.

Binary tasks: the score is the positive class's probability and a bin's `accuracy` is the
observed positive rate (the reliability curve of a risk score). Multi-class tasks: the
top-label confidence (largest probability) against the share of rows whose top label is
right. ECE = sum over bins of (count / n) * |accuracy - confidence| (Guo et al., 2017).
Bins are [k/B, (k+1)/B), the last one closed at 1.
"""

from __future__ import annotations

import numpy as np


def confidence_and_hit(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """probs [n, K], labels [n] -> (score, outcome) pairs that the reliability curve bins."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    if probs.shape[1] == 2:
        return probs[:, 1], (labels == 1).astype(np.float64)
    return probs.max(axis=1), (probs.argmax(axis=1) == labels).astype(np.float64)


def reliability(confidence: np.ndarray, outcome: np.ndarray, n_bins: int = 15) -> tuple[list[dict], float | None]:
    """-> (one dict per bin: bin, lower, upper, confidence, accuracy, count; ECE).

    Empty bins are listed with count 0 and null confidence/accuracy, so every run has the
    same bins. ECE is None for an empty sample."""
    confidence = np.clip(np.asarray(confidence, dtype=np.float64), 0.0, 1.0)
    outcome = np.asarray(outcome, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.minimum((confidence * n_bins).astype(np.int64), n_bins - 1)  # [n]
    count = np.bincount(which, minlength=n_bins)
    conf_sum = np.bincount(which, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(which, weights=outcome, minlength=n_bins)
    rows, ece, n = [], 0.0, len(confidence)
    for b in range(n_bins):
        c = int(count[b])
        conf = conf_sum[b] / c if c else None
        acc = acc_sum[b] / c if c else None
        if c:
            ece += c / n * abs(acc - conf)
        rows.append({"bin": b, "lower": float(edges[b]), "upper": float(edges[b + 1]),
                     "confidence": None if conf is None else float(conf),
                     "accuracy": None if acc is None else float(acc), "count": c})
    return rows, (float(ece) if n else None)
