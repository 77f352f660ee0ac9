"""Score one run's predictions outside the workflow (the same code the `evaluate` rule runs).

    lang1 evaluate results/predictions/lang1/zeroshot --remede results/remede \\
        --oracle results/oracle/oracle.parquet --out lang1-zeroshot.json --tables tables/

Reads RUN_DIR/{task}/{split}.parquet and RUN_DIR/run.json, joins each file to
REMEDE/{task}/{split}.parquet, writes the metrics JSON and, with --tables, the CSV tables.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from lang1core.cli_args import nonnegative_int, open_fraction, positive_int
from lang1core.evaluate.metrics import STRATA, EvalSettings

HELP = "AUROC with bootstrap intervals, calibration, strata and alerts for one run's predictions"


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = EvalSettings()
    p.add_argument("run_dir", type=Path, help="predictions/{model}/{recipe} folder")
    p.add_argument("--remede", type=Path, required=True, help="ReMedE folder holding {task}/{split}.parquet")
    p.add_argument("--out", type=Path, required=True, help="metrics JSON to write")
    p.add_argument("--oracle", type=Path, default=None, help="oracle.parquet (synthetic hospital only)")
    p.add_argument("--tables", type=Path, default=None, help="also write the CSV tables into this folder")
    p.add_argument("--n-bootstrap", type=nonnegative_int, default=d.n_bootstrap)
    p.add_argument("--ci-level", type=open_fraction, default=d.ci_level)
    p.add_argument("--example-bootstrap", action="store_true", help="resample examples, not patients")
    p.add_argument("--calibration-bins", type=positive_int, default=d.calibration_bins)
    p.add_argument("--alert-rates", type=open_fraction, nargs="+", default=d.alert_rates)
    p.add_argument("--min-positives", type=nonnegative_int, default=d.min_positives,
                   help="fewest positives (and negatives) for an AUROC to be reported")
    p.add_argument("--strata", nargs="*", default=list(STRATA))
    p.add_argument("--splits", nargs="+", default=d.splits)
    p.add_argument("--seed", type=nonnegative_int, default=3407)


def run(args: argparse.Namespace) -> int:
    import sys

    from lang1core.evaluate.run import PredictionError, evaluate_run
    from lang1core.evaluate.tables import build_tables
    from lang1core.logs import setup_logging

    setup_logging()
    settings = EvalSettings(n_bootstrap=args.n_bootstrap, ci_level=args.ci_level,
                            cluster_by_patient=not args.example_bootstrap,
                            calibration_bins=args.calibration_bins, alert_rates=args.alert_rates,
                            strata=args.strata, splits=args.splits, min_positives=args.min_positives)
    preds = sorted(str(p) for p in args.run_dir.glob("*/*.parquet"))
    if not preds:
        raise SystemExit(f"{args.run_dir}: no {{task}}/{{split}}.parquet prediction files")
    remede = sorted(str(p) for p in args.remede.glob("*/*.parquet"))
    run_json = args.run_dir / "run.json"
    try:
        evaluate_run(preds, remede, str(run_json) if run_json.exists() else None, args.out, settings, args.seed,
                     config={"evaluate": asdict(settings), "seed": args.seed},
                     oracle=str(args.oracle) if args.oracle else None,
                     model=args.run_dir.parent.name, recipe=args.run_dir.name)
    except PredictionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.tables:
        build_tables([args.out], args.tables)
    print(f"wrote {args.out}")
    return 0
