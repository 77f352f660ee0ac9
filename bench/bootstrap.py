"""Bootstrap AUROC intervals: the vectorised engine against a loop around scikit-learn.

    python bench/bootstrap.py                       # 1000 resamples of 97,586 examples
    python bench/bootstrap.py --n 50000 --baseline-resamples 200

97,586 is the study's 2024 readmission test size (11.3% positive). Three ways to get the
same 95% percentile interval from the same resamples (all draw `rng.integers(0, n, (b, n))`
in chunks of b from one seeded generator):
  vectorised  lang1core.evaluate.auroc.bootstrap_binary (sort once, counts, cumsum)
  scipy       scipy.stats.bootstrap(paired, percentile, batch=b) around roc_auc_score
  loop        a Python loop calling roc_auc_score on each resample
It prints each time, the speed-up and the largest difference between the intervals and
between the per-resample AUROCs. With --baseline-resamples < resamples the baselines run
fewer resamples and their time is scaled up (said in the output); intervals are then
compared on the shared first resamples only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

from lang1core.evaluate.auroc import bootstrap_binary, chunk_size, percentile_ci


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=97_586, help="examples")
    p.add_argument("--prevalence", type=float, default=0.113, help="share of positives")
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--baseline-resamples", type=int, default=None, help="resamples for the slow baselines")
    p.add_argument("--patients-per-example", type=float, default=0.5,
                   help="patients / examples for the clustered timing (0.5: two stays each on average)")
    p.add_argument("--seed", type=int, default=3407)
    args = p.parse_args()

    rng = np.random.default_rng(args.seed)
    n = args.n
    y = (rng.random(n) < args.prevalence).astype(np.int64)
    s = np.round(rng.random(n) + 0.6 * y, 4)  # rounded: ties between classes, as softmax outputs have
    chunk = chunk_size(n, args.resamples)
    base_b = args.baseline_resamples or args.resamples
    print(f"n={n:,} positives={int(y.sum()):,} resamples={args.resamples} chunk={chunk}")

    t = time.perf_counter()
    vec = bootstrap_binary(s, y, args.resamples, np.random.default_rng(args.seed + 1), chunk=chunk,
                           keep_distribution=True)
    t_vec = time.perf_counter() - t

    def stat(i, axis=-1):
        return roc_auc_score(y[i], s[i])

    t = time.perf_counter()
    sp = stats.bootstrap((np.arange(n),), stat, n_resamples=base_b, batch=chunk, vectorized=False,
                         paired=True, method="percentile", confidence_level=0.95,
                         rng=np.random.default_rng(args.seed + 1))
    t_scipy = (time.perf_counter() - t) * args.resamples / base_b

    g = np.random.default_rng(args.seed + 1)
    t = time.perf_counter()
    loop = []
    for start in range(0, base_b, chunk):
        for idx in g.integers(0, n, (min(chunk, base_b - start), n)):
            loop.append(roc_auc_score(y[idx], s[idx]))
    t_loop = (time.perf_counter() - t) * args.resamples / base_b
    loop = np.array(loop)

    vec_ci = (vec.ci_low, vec.ci_high) if base_b == args.resamples else percentile_ci(vec.distribution[:base_b], 0.95)
    sp_ci = (sp.confidence_interval.low, sp.confidence_interval.high)
    loop_ci = percentile_ci(loop, 0.95)
    d_sp = max(abs(a - b) for a, b in zip(vec_ci, sp_ci))
    d_loop = max(abs(a - b) for a, b in zip(vec_ci, loop_ci))
    d_each = float(np.abs(vec.distribution[:base_b] - loop).max())

    patients = rng.integers(0, max(1, int(n * args.patients_per_example)), n)
    patients = np.unique(patients, return_inverse=True)[1]
    t = time.perf_counter()
    cl = bootstrap_binary(s, y, args.resamples, np.random.default_rng(args.seed + 2), clusters=patients)
    t_cl = time.perf_counter() - t

    scaled = "" if base_b == args.resamples else f" (timed on {base_b}, scaled to {args.resamples})"
    print(f"AUROC {vec.estimate:.6f} (sklearn {roc_auc_score(y, s):.6f})")
    print(f"{'method':<28}{'seconds':>10}{'speed-up':>10}   95% CI")
    print(f"{'vectorised (example)':<28}{t_vec:>10.2f}{'1.0x':>10}   [{vec.ci_low:.9f}, {vec.ci_high:.9f}]")
    print(f"{'vectorised (patient)':<28}{t_cl:>10.2f}{t_vec / t_cl:>9.1f}x   [{cl.ci_low:.9f}, {cl.ci_high:.9f}]"
          f"  ({patients.max() + 1:,} patients)")
    print(f"{'scipy.stats.bootstrap':<28}{t_scipy:>10.2f}{t_scipy / t_vec:>9.1f}x"
          f"   [{sp_ci[0]:.9f}, {sp_ci[1]:.9f}]{scaled}")
    print(f"{'loop roc_auc_score':<28}{t_loop:>10.2f}{t_loop / t_vec:>9.1f}x"
          f"   [{loop_ci[0]:.9f}, {loop_ci[1]:.9f}]{scaled}")
    print(f"max |CI difference| vs scipy {d_sp:.2e}, vs loop {d_loop:.2e}; "
          f"max |AUROC difference| per resample {d_each:.2e}")
    print("intervals equal to 1e-9:", d_sp <= 1e-9 and d_loop <= 1e-9)


if __name__ == "__main__":
    main()
