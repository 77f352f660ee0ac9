"""AUROC and its bootstrap distribution, vectorised over resamples.

AUROC is the Mann-Whitney statistic: the probability that a random positive scores above a
random negative, ties counting one half. With example weights w (a bootstrap resample is a
vector of counts: how often each example was drawn) it is

    AUC(w) = sum_{i pos} w_i * (W_neg(s < s_i) + 0.5 * W_neg(s == s_i)) / (W_pos * W_neg)

which equals scikit-learn's `roc_auc_score` on the resampled rows (the trapezoid under the
ROC curve gives ties the same half credit).

Sort once: negatives are sorted by score when the engine is built, and every positive gets
the positions `lo` / `hi` where its score starts and ends among them. For a resample the
negative weights' cumulative sum C (shape [B, n_neg + 1]) then gives, per positive,
W_neg(s < s_i) = C[lo_i] and W_neg(s <= s_i) = C[hi_i], so one resample costs O(n) array
work and no sort; B resamples are rows of one matrix, processed in chunks that bound memory.

Resampling with counts: a resample of n indices is turned into counts per example by one
`bincount`; the patient-clustered bootstrap draws patients instead and gives each example its
patient's count, so correlated notes of one patient enter or leave a resample together.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

# Bound on elements of one [chunk, n] weight matrix (float64: 8 bytes each -> ~32 MB).
DEFAULT_MAX_ELEMENTS = 4_000_000


def chunk_size(n: int, n_resamples: int, max_elements: int = DEFAULT_MAX_ELEMENTS) -> int:
    """Resamples per chunk so that a [chunk, n] matrix stays under `max_elements`."""
    return int(max(1, min(n_resamples, max_elements // max(n, 1))))


class BinaryAUROC:
    """AUROC engine for one fixed (scores, labels) pair, evaluated for many weight vectors.

    `order` is the column order the engine wants its weights in: the negatives sorted by
    score, then the positives. Weight generators can produce weights in that order directly
    (`bootstrap_weights(..., order=engine.order)`) to skip a gather per resample.
    """

    def __init__(self, scores: np.ndarray, labels: np.ndarray):
        scores = np.asarray(scores, dtype=np.float64)
        labels = np.asarray(labels)
        if scores.shape != labels.shape or scores.ndim != 1:
            raise ValueError(f"scores {scores.shape} and labels {labels.shape} must be equal 1-d shapes")
        if np.isnan(scores).any():
            raise ValueError("scores contain NaN; drop (and count) those rows before scoring")
        pos = labels == 1
        neg_idx = np.flatnonzero(~pos)
        pos_idx = np.flatnonzero(pos)
        neg_idx = neg_idx[np.argsort(scores[neg_idx], kind="stable")]
        sorted_neg = scores[neg_idx]
        pos_scores = scores[pos_idx]
        self.n_neg, self.n_pos = len(neg_idx), len(pos_idx)
        self.order = np.concatenate([neg_idx, pos_idx])  # [n]
        # Per positive: negatives strictly below start at 0..lo, ties span lo..hi.
        self.lo = np.searchsorted(sorted_neg, pos_scores, side="left")  # [n_pos]
        self.hi = np.searchsorted(sorted_neg, pos_scores, side="right")  # [n_pos]
        self.ties = bool((self.hi != self.lo).any())  # some positive ties some negative

    def ordered(self, weights: np.ndarray) -> np.ndarray:
        """Weights [B, n] in the original example order -> [B, n] in engine order."""
        return np.take(weights, self.order, axis=1)

    def from_ordered(self, w: np.ndarray) -> np.ndarray:
        """AUROC per row of weights already in engine order, w: [B, n] -> [B] (NaN: one class).

        Integer weights (bootstrap counts) are summed in int64, exactly; the one division
        at the end is the only rounding."""
        w = np.atleast_2d(w)
        if not np.issubdtype(w.dtype, np.integer):
            w = w.astype(np.float64, copy=False)
        w_neg, w_pos = w[:, : self.n_neg], w[:, self.n_neg :]
        cum = np.zeros((w.shape[0], self.n_neg + 1), dtype=w.dtype)  # cum[:, j] = sum of first j
        np.cumsum(w_neg, axis=1, out=cum[:, 1:])
        below = np.take(cum, self.lo, axis=1)  # [B, n_pos] negatives strictly below
        if self.ties:
            below += np.take(cum, self.hi, axis=1)  # + negatives at or below
        else:
            below *= 2
        num = np.einsum("bp,bp->b", w_pos, below)  # twice the Mann-Whitney count
        den = w_pos.sum(axis=1) * cum[:, -1]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, 0.5 * num / np.where(den > 0, den, 1), np.nan)

    def __call__(self, weights: np.ndarray | None = None) -> np.ndarray | float:
        """AUROC for weights in original order ([n] or [B, n]); None: every example once."""
        if weights is None:
            return float(self.from_ordered(np.ones((1, self.n_neg + self.n_pos), dtype=np.int64))[0])
        weights = np.asarray(weights)
        if weights.ndim == 1:
            return float(self.from_ordered(weights[self.order][None, :])[0])
        return self.from_ordered(self.ordered(weights))


def auroc(y_true: np.ndarray, y_score: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Binary AUROC (y_true 0/1, ties in y_score counted half); NaN when only one class is
    present. Arguments in scikit-learn's order, as every `auroc` of this project takes them."""
    return BinaryAUROC(y_score, y_true)(weights)


def bootstrap_weights(
    n: int,
    n_resamples: int,
    rng: np.random.Generator,
    clusters: np.ndarray | None = None,
    order: np.ndarray | None = None,
    chunk: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield count matrices [b, n] (int64), b <= chunk, n_resamples rows in all.

    Example bootstrap: each chunk draws `rng.integers(0, n, (b, n))` — exactly the indices
    `scipy.stats.bootstrap(..., batch=chunk)` draws from the same generator — and counts them.
    Clustered: `clusters` holds each example's cluster code (0..P-1); the chunk draws P
    cluster indices per resample and each example gets its cluster's count.
    `order` (a permutation of 0..n-1) returns columns in that order (see BinaryAUROC.order).
    """
    chunk = chunk or chunk_size(n, n_resamples)
    if clusters is not None:
        clusters = np.asarray(clusters)
        n_clusters = int(clusters.max()) + 1 if n else 0
        codes = clusters if order is None else clusters[order]
    elif order is not None:
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.arange(n)
    for start in range(0, n_resamples, chunk):
        b = min(chunk, n_resamples - start)
        if clusters is not None:
            idx = rng.integers(0, n_clusters, (b, n_clusters))
            flat = (idx + n_clusters * np.arange(b)[:, None]).ravel()
            counts = np.bincount(flat, minlength=b * n_clusters).reshape(b, n_clusters)
            yield np.take(counts, codes, axis=1)
        else:
            idx = rng.integers(0, n, (b, n))
            if order is not None:
                idx = np.take(inverse, idx, mode="clip")  # 'clip': no bounds buffer; idx < n
            idx += n * np.arange(b)[:, None]  # row r counts into bins r*n .. r*n + n-1
            yield np.bincount(idx.ravel(), minlength=b * n).reshape(b, n)


def percentile_ci(values: np.ndarray, level: float) -> tuple[float | None, float | None]:
    """Percentile interval of a bootstrap distribution, ignoring NaN (one-class resamples).

    Linear interpolation between order statistics, as `np.percentile` and the percentile
    method of `scipy.stats.bootstrap`."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return None, None
    alpha = (1.0 - level) / 2.0
    low, high = np.percentile(values, [100 * alpha, 100 * (1 - alpha)])
    return float(low), float(high)


@dataclass
class BootstrapResult:
    estimate: float | None  # on the full sample; None when undefined (one class)
    ci_low: float | None
    ci_high: float | None
    n_resamples: int
    n_valid: int  # resamples where the statistic was defined (both classes drawn)
    distribution: np.ndarray | None = None  # [n_resamples], only when asked for


def bootstrap_binary(
    scores: np.ndarray,
    labels: np.ndarray,
    n_resamples: int,
    rng: np.random.Generator,
    level: float = 0.95,
    clusters: np.ndarray | None = None,
    chunk: int | None = None,
    keep_distribution: bool = False,
) -> BootstrapResult:
    """Binary AUROC with a percentile bootstrap interval (example or cluster resampling)."""
    engine = BinaryAUROC(scores, labels)
    estimate = engine()
    n = len(engine.order)
    if np.isnan(estimate) or n_resamples <= 0:
        return BootstrapResult(None if np.isnan(estimate) else estimate, None, None, n_resamples, 0)
    dist = np.concatenate([
        engine.from_ordered(w)
        for w in bootstrap_weights(n, n_resamples, rng, clusters=clusters, order=engine.order, chunk=chunk)
    ])
    low, high = percentile_ci(dist, level)
    return BootstrapResult(estimate, low, high, n_resamples, int((~np.isnan(dist)).sum()),
                           dist if keep_distribution else None)


class MulticlassAUROC:
    """One-vs-rest AUROC for K classes: macro (mean over classes) and micro (pooled pairs).

    Macro averages the classes that hold both positives and negatives in the evaluated
    sample (scikit-learn raises instead); a resample that misses a class averages the
    classes it has. Micro flattens [n, K] into n*K binary decisions, as scikit-learn's
    `average="micro"`.
    """

    def __init__(self, probs: np.ndarray, labels: np.ndarray):
        probs = np.asarray(probs, dtype=np.float64)
        labels = np.asarray(labels)
        n, k = probs.shape
        self.n, self.k = n, k
        self.class_counts = np.bincount(labels, minlength=k)[:k]
        self.classes = [c for c in range(k) if 0 < self.class_counts[c] < n]
        self.per_class = {c: BinaryAUROC(probs[:, c], (labels == c).astype(np.int8)) for c in self.classes}
        onehot = np.zeros((n, k), dtype=np.int8)
        onehot[np.arange(n), labels] = 1
        self.micro = BinaryAUROC(probs.ravel(), onehot.ravel())  # row-major: i*K + c
        self.micro_cols = self.micro.order // k  # example behind each flattened column

    def macro(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """weights [B, n] -> macro [B] and per-class [B, K] (NaN for classes not evaluable);
        cheaper than calling the engine when micro is not needed (it scores n*K pairs)."""
        weights = np.atleast_2d(np.asarray(weights))
        per = np.full((weights.shape[0], self.k), np.nan)
        for c, engine in self.per_class.items():
            per[:, c] = engine.from_ordered(engine.ordered(weights))
        with np.errstate(invalid="ignore"):
            cols = per[:, self.classes] if self.classes else np.full((weights.shape[0], 1), np.nan)
            valid = ~np.isnan(cols)
            macro = np.where(valid.any(axis=1), np.nansum(cols, axis=1) / np.maximum(valid.sum(axis=1), 1), np.nan)
        return macro, per

    def __call__(self, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """-> macro [B], micro [B], per-class [B, K] (NaN for classes not evaluable)."""
        if weights is None:
            weights = np.ones((1, self.n), dtype=np.int64)
        weights = np.atleast_2d(np.asarray(weights))
        macro, per = self.macro(weights)
        micro = self.micro.from_ordered(np.take(weights, self.micro_cols, axis=1))
        return macro, micro, per


def bootstrap_multiclass(
    probs: np.ndarray,
    labels: np.ndarray,
    n_resamples: int,
    rng: np.random.Generator,
    level: float = 0.95,
    clusters: np.ndarray | None = None,
    chunk: int | None = None,
) -> dict:
    """Macro and micro one-vs-rest AUROC with percentile intervals, from shared resamples."""
    engine = MulticlassAUROC(probs, labels)
    macro, micro, per = engine()
    out = {
        "macro": None if np.isnan(macro[0]) else float(macro[0]),
        "micro": None if np.isnan(micro[0]) else float(micro[0]),
        "per_class": [None if np.isnan(v) else float(v) for v in per[0]],
        "classes_evaluated": engine.classes,
        "class_counts": engine.class_counts.tolist(),
        "macro_ci": (None, None), "micro_ci": (None, None), "n_valid": 0,
    }
    if out["macro"] is None or n_resamples <= 0:
        return out
    macros, micros = [], []
    for w in bootstrap_weights(engine.n, n_resamples, rng, clusters=clusters, chunk=chunk):
        m, mi, _ = engine(w)
        macros.append(m)
        micros.append(mi)
    macros, micros = np.concatenate(macros), np.concatenate(micros)
    out["macro_ci"] = percentile_ci(macros, level)
    out["micro_ci"] = percentile_ci(micros, level)
    out["n_valid"] = int((~np.isnan(macros)).sum())
    return out
