"""Paired, patient-clustered bootstrap of an AUROC difference (the claims report's engine).

    python bench/claims.py                          # 1000 resamples of 97,586 examples
    python bench/claims.py --n 20000 --classes 4 --models 4

Times `lang1core.evaluate.paired.paired_interval` for the difference between two of
`--models` models scored on the same resamples of patients, and checks it against a loop
that draws the same patient counts and calls scikit-learn's `roc_auc_score` on each model
(`--baseline-resamples` of them, time scaled up), printing the largest difference between
the per-resample differences. 97,586 is the study's 2024 readmission test size.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from lang1core.evaluate.paired import Block, paired_aurocs, paired_interval, resample_weights


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=97_586, help="examples")
    p.add_argument("--classes", type=int, default=2, help="2: binary; more: one-vs-rest macro")
    p.add_argument("--models", type=int, default=2, help="models scored on each resample")
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--baseline-resamples", type=int, default=20)
    p.add_argument("--examples-per-patient", type=int, default=2)
    p.add_argument("--seed", type=int, default=3407)
    args = p.parse_args()

    rng = np.random.default_rng(args.seed)
    n, k = args.n, args.classes
    labels = rng.integers(0, k, n)
    patients = np.array([f"p{i // args.examples_per_patient:07d}" for i in range(n)])
    probs = []
    for m in range(args.models):
        logits = rng.normal(size=(n, k))
        logits[np.arange(n), labels] += 1.0 + 0.05 * m
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs.append(e / e.sum(axis=1, keepdims=True))
    blocks = [Block(labels, patients, probs)]

    t = time.perf_counter()
    iv = paired_interval(blocks, lambda a: a[:, 0] - a[:, 1], args.resamples, np.random.default_rng(1))
    fast = time.perf_counter() - t
    print(f"paired clustered bootstrap: {args.resamples} resamples x {args.models} models, n={n:,}, "
          f"{k} classes, {iv.n_patients:,} patients: {fast:.2f} s")
    print(f"  difference {iv.estimate:.4f} [{iv.lo:.4f}, {iv.hi:.4f}]")

    b = args.baseline_resamples
    _, draws = paired_aurocs(blocks, b, np.random.default_rng(2))
    weights = np.concatenate(list(resample_weights(blocks, b, np.random.default_rng(2))))
    t = time.perf_counter()
    loop = []
    for w in weights:
        idx = np.repeat(np.arange(n), w)
        score = (lambda pr: roc_auc_score(labels[idx], pr[idx, 1])) if k == 2 else \
            (lambda pr: roc_auc_score(labels[idx], pr[idx], multi_class="ovr", average="macro"))
        loop.append([score(pr) for pr in probs])
    slow = (time.perf_counter() - t) * args.resamples / b
    loop = np.array(loop)
    print(f"loop around roc_auc_score: {slow:.1f} s for {args.resamples} (scaled from {b}); "
          f"speed-up {slow / fast:.0f}x")
    print(f"  largest per-resample difference: "
          f"{np.abs((draws[:, 0] - draws[:, 1]) - (loop[:, 0] - loop[:, 1])).max():.2e}")


if __name__ == "__main__":
    main()
