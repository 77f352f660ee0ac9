"""Paired bootstrap of AUROC contrasts: several models, scored on the same resamples.

A difference between two models' AUROCs on the same examples is far less uncertain than
either AUROC alone, because an example that is hard for one model is usually hard for the
other; resampling each model separately throws that away. Here every model in a comparison
is scored on the *same* resample (one weight vector per resample for all of them), and the
statistic (a difference, a mean of differences, a ratio) is taken resample by resample.

Examples come in blocks, one per (task, split): each block holds its examples' labels and
patients and one probability matrix per model. Blocks of different tasks or periods share
patients (one patient's stays feed several tasks and years), so the patients of all blocks
are resampled together: one draw of patient counts weights every block (without clustering,
examples are resampled within each block). The AUROC engines, the count-based resampling and
the percentile interval are those of `auroc.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from lang1core.evaluate.auroc import (
    DEFAULT_MAX_ELEMENTS,
    BinaryAUROC,
    MulticlassAUROC,
    bootstrap_weights,
    chunk_size,
    percentile_ci,
)


@dataclass
class Block:
    """One (task, split)'s examples with every compared model's probabilities on them."""

    labels: np.ndarray  # [n] class index
    patients: np.ndarray  # [n] patient id (any hashable; equal ids = one cluster)
    probs: list[np.ndarray]  # one [n, K] matrix per model, rows aligned with labels

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.patients = np.asarray(self.patients)
        n = len(self.labels)
        if self.patients.shape != (n,):
            raise ValueError(f"block: {len(self.patients)} patient ids for {n} labels")
        for i, p in enumerate(self.probs):
            if np.ndim(p) != 2 or len(p) != n:
                raise ValueError(f"block: model {i} has probabilities of shape {np.shape(p)}, "
                                 f"expected [{n}, K]")


@dataclass
class Interval:
    estimate: float | None  # the statistic on the full sample; None when undefined
    lo: float | None
    hi: float | None
    n: int  # examples over all blocks
    n_patients: int  # distinct patients over all blocks
    n_valid: int  # resamples where the statistic was defined


def _scorer(probs: np.ndarray, labels: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """weights [B, n] in example order -> AUROC [B]: binary on prob_1, else one-vs-rest macro."""
    if probs.shape[1] == 2:
        engine = BinaryAUROC(probs[:, 1], labels)
        return lambda w: engine.from_ordered(engine.ordered(w))
    multi = MulticlassAUROC(probs, labels)
    return lambda w: multi.macro(w)[0]


def cluster_codes(blocks: list[Block]) -> np.ndarray:
    """Patient code (0..P-1) of every example of the concatenated blocks."""
    if not blocks:
        return np.zeros(0, dtype=np.int64)
    ids = np.concatenate([b.patients.astype(str) for b in blocks])
    return np.unique(ids, return_inverse=True)[1].reshape(-1)


def resample_weights(blocks: list[Block], n_resamples: int, rng: np.random.Generator,
                     cluster: bool = True, chunk: int | None = None) -> Iterator[np.ndarray]:
    """Count matrices [b, n] over the concatenated blocks' examples, n_resamples rows in all.

    Clustered: one draw of patients for all blocks, each example weighted by its patient's
    count. Otherwise examples are resampled within each block, so every block keeps its size
    (the two-sample bootstrap of, e.g., an external site against the internal test)."""
    n = sum(len(b.labels) for b in blocks)
    if cluster:
        yield from bootstrap_weights(n, n_resamples, rng, clusters=cluster_codes(blocks), chunk=chunk)
        return
    chunk = chunk or chunk_size(n, n_resamples)
    per_block = [bootstrap_weights(len(b.labels), n_resamples, rng, chunk=chunk) for b in blocks]
    for ws in zip(*per_block):
        yield np.hstack(ws)


def paired_aurocs(blocks: list[Block], n_resamples: int, rng: np.random.Generator,
                  cluster: bool = True,
                  max_elements: int = DEFAULT_MAX_ELEMENTS) -> tuple[np.ndarray, np.ndarray]:
    """AUROC of every (block, model) on the full sample and on shared resamples.

    Returns (point [S], draws [n_resamples, S]), S = models summed over blocks, in block order
    then model order. NaN where a resample (or the sample) holds one class only."""
    scorers = [_scorer(np.asarray(p, dtype=np.float64), b.labels) for b in blocks for p in b.probs]
    spans, start = [], 0
    for b in blocks:
        spans += [(start, start + len(b.labels))] * len(b.probs)
        start += len(b.labels)
    n = start
    ones = np.ones((1, n), dtype=np.int64)
    point = np.array([s(ones[:, a:z])[0] for s, (a, z) in zip(scorers, spans)])
    draws = np.empty((n_resamples, len(scorers)))
    row = 0
    chunk = chunk_size(n, n_resamples, max_elements)
    for w in resample_weights(blocks, n_resamples, rng, cluster, chunk):
        draws[row:row + len(w)] = np.stack([s(w[:, a:z]) for s, (a, z) in zip(scorers, spans)], axis=1)
        row += len(w)
    return point, draws


def paired_interval(blocks: list[Block], statistic: Callable[[np.ndarray], np.ndarray],
                    n_resamples: int, rng: np.random.Generator, level: float = 0.95,
                    cluster: bool = True, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Interval:
    """Percentile interval of `statistic` over paired resamples.

    `statistic` maps AUROCs [B, S] (columns as in `paired_aurocs`) to [B]; it is applied to
    the full sample (B = 1) for the estimate and to the resamples for the interval."""
    point, draws = paired_aurocs(blocks, n_resamples, rng, cluster, max_elements)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = float(np.asarray(statistic(point[None, :]), dtype=np.float64).reshape(-1)[0])
        dist = np.asarray(statistic(draws), dtype=np.float64).reshape(-1) if n_resamples else np.zeros(0)
    n = sum(len(b.labels) for b in blocks)
    n_patients = int(cluster_codes(blocks).max()) + 1 if n else 0
    if not np.isfinite(est):
        return Interval(None, None, None, n, n_patients, 0)
    dist = np.where(np.isfinite(dist), dist, np.nan)  # a ratio over a zero denominator: undefined
    lo, hi = percentile_ci(dist, level)
    return Interval(est, lo, hi, n, n_patients, int(np.isfinite(dist).sum()))
