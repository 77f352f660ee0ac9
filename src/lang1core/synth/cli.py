"""Generate the synthetic multi-site hospital: the five export tables (patients, encounters,
notes, diagnoses, claims: the export contract in README) as CSV in OUT, plus the oracle (each task-eligible stay's
true outcome probabilities given its note) in OUT/../oracle/oracle.parquet unless --oracle is
given. Deterministic by --seed; memory is bounded by --chunk-size, not --n-patients."""

from __future__ import annotations

import argparse
import sys

from lang1core.cli_args import bounded, fraction, nonnegative_int, positive_int
from lang1core.synth.config import FIRST_YEAR, LAST_YEAR, SITES, SynthConfig

HELP = "generate the synthetic hospital's export tables and oracle"


def add_arguments(p: argparse.ArgumentParser) -> None:
    year = bounded(int, FIRST_YEAR, LAST_YEAR)
    p.add_argument("out", help="folder for patients.csv, encounters.csv, notes.csv, diagnoses.csv, claims.csv")
    p.add_argument("--n-patients", type=positive_int, default=5000, help="patients in the health system")
    p.add_argument("--seed", type=nonnegative_int, default=3407, help="random seed; the output is a pure "
                   "function of (seed, n-patients, chunk-size)")
    p.add_argument("--start-year", type=year, default=2003,
                   help=f"first calendar year of admissions ({FIRST_YEAR}-{LAST_YEAR})")
    p.add_argument("--end-year", type=year, default=2024,
                   help=f"last calendar year of admissions ({FIRST_YEAR}-{LAST_YEAR}, >= --start-year)")
    p.add_argument("--sites", nargs="+", default=list(SITES), help="site names, one documentation style each")
    p.add_argument("--chunk-size", type=positive_int, default=5000, help="patients generated and written at a "
                   "time (bounds memory)")
    p.add_argument("--multipart-fraction", type=fraction, default=0.05,
                   help="share of notes written as two narrative fields (`part` 1, 2), 0 to 1")
    p.add_argument("--no-corpus-notes", action="store_true",
                   help="write only each stay's H&P and discharge summary (no progress, nursing, radiology, ...)")
    p.add_argument("--oracle", default=None, help="oracle parquet path (default OUT/../oracle/oracle.parquet)")
    p.add_argument("--workers", type=positive_int, default=1, help="processes rendering chunks in parallel "
                   "(the output is the same for any number)")
    p.add_argument("--log", default=None, help="also log to this file")


def run(args: argparse.Namespace) -> int:
    from lang1core.logs import setup_logging
    from lang1core.synth.writer import generate

    try:  # options that contradict each other (--start-year after --end-year, repeated --sites)
        cfg = SynthConfig(n_patients=args.n_patients, seed=args.seed, start_year=args.start_year,
                          end_year=args.end_year, sites=tuple(args.sites), chunk_size=args.chunk_size,
                          multipart_fraction=args.multipart_fraction, corpus_notes=not args.no_corpus_notes)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    setup_logging(args.log)
    generate(cfg, args.out, args.oracle, workers=args.workers)
    return 0
