"""ReMedE build on the synthetic hospital: class ratios per task against the study's
(docs/study.md#class-balance, 2024 temporal test) and build time.

    python bench/remede_build.py --n-patients 20000 [--work DIR] [--split temporal_2024]

Generates the hospital (H&P and discharge summaries only: the tasks read nothing else),
validates the export, builds the tasks, and prints one line per task and class.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

# The study's class shares (%) on the 2024 temporal test (docs/study.md#class-balance).
STUDY = {
    "readmission": [88.7, 11.3],
    "mortality": [98.2, 1.8],
    "los": [45.6, 14.5, 16.0, 23.9],
    "cci": [68.4, 21.7, 6.8, 2.9, 0.17],
    "denial": [86.1, 13.9],
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-patients", type=int, default=20000)
    p.add_argument("--seed", type=int, default=3407)
    p.add_argument("--split", default="temporal_2024")
    p.add_argument("--work", default=None, help="folder to keep the export and tasks in (default: temporary)")
    p.add_argument("--los-edges", type=int, nargs=3, default=None, help="fix LOS edges (default: train quartiles)")
    args = p.parse_args()

    from lang1core.export import validate_export
    from lang1core.remede.build import build_remede
    from lang1core.remede.config import BuildConfig
    from lang1core.remede.tables import ratio_summary
    from lang1core.synth import SynthConfig, generate

    work = Path(args.work or tempfile.mkdtemp(prefix="remede_bench_"))
    t0 = time.perf_counter()
    generate(SynthConfig(n_patients=args.n_patients, seed=args.seed, corpus_notes=False),
             work / "export", work / "oracle.parquet", progress=False)
    t1 = time.perf_counter()
    validate_export(work / "export", work / "validated")
    t2 = time.perf_counter()
    remede = {"los": {"edges": args.los_edges}} if args.los_edges else {}
    cfg = BuildConfig.from_dict(remede, seed=args.seed, held_out_site="site_d")
    manifest = build_remede(work / "validated", work / "remede", cfg)
    t3 = time.perf_counter()

    ours = ratio_summary(manifest, args.split)
    print(f"{args.n_patients} synthetic patients; class shares (%) on split {args.split}, ours vs study")
    print(f"{'task':<12} {'n':>6}  {'ours':<34} {'study':<34} max|diff|")
    for task, shares in ours.items():
        n = manifest["tasks"][task]["splits"][args.split]["examples"]
        study = STUDY[task]
        diff = max(abs(a - b) for a, b in zip(shares, study))
        print(f"{task:<12} {n:>6}  {str(shares):<34} {str(study):<34} {diff:.1f}")
    los = manifest["tasks"]["los"]["los"]
    print(f"LOS edges {los['edges']} ({los['edges_source']}); study (2, 3, 5)")
    print("examples per split:", {t: {s: c["examples"] for s, c in i["splits"].items()}
                                  for t, i in manifest["tasks"].items()})
    per_task = ", ".join(f"{t} {i['seconds']:.2f}s" for t, i in manifest["tasks"].items())
    print(f"time: synth {t1 - t0:.1f} s, validate {t2 - t1:.1f} s, remede build {t3 - t2:.1f} s "
          f"(labels and splits per task: {per_task})")


if __name__ == "__main__":
    main()
