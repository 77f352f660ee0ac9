"""Operating points at fixed alert rates: flag the riskiest share of examples.

A care-management team can act on a fixed share of patients (say the top 10% by predicted
risk). The threshold is the score of the k-th riskiest example, k = ceil(rate * n), and a
deployed threshold flags every example scoring at least that much, so ties at the threshold
can flag slightly more than k; `flagged` reports how many were.
Sensitivity = flagged positives / positives; PPV = flagged positives / flagged.
"""

from __future__ import annotations

import math

import numpy as np


def alert_points(scores: np.ndarray, labels: np.ndarray, rates: list[float]) -> list[dict]:
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    n, n_pos = len(scores), int((labels == 1).sum())
    ranked = np.sort(scores)[::-1]
    rows = []
    for rate in rates:
        if n == 0:
            rows.append({"alert_rate": rate, "threshold": None, "flagged": 0, "sensitivity": None, "ppv": None})
            continue
        k = min(n, max(1, math.ceil(rate * n - 1e-9)))
        threshold = float(ranked[k - 1])
        flag = scores >= threshold
        tp = int((flag & (labels == 1)).sum())
        flagged = int(flag.sum())
        rows.append({"alert_rate": rate, "threshold": threshold, "flagged": flagged,
                     "sensitivity": tp / n_pos if n_pos else None, "ppv": tp / flagged})
    return rows
