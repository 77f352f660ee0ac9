"""Check a site's EHR export against the lang1 export contract (docs/architecture.md#export-tables).

Reads patients, encounters, notes, diagnoses and claims (.csv, .csv.gz or .parquet) from
DIR, rejects every row that cannot be used with a reason naming file, row and column, and
prints per-table counts with the most common reasons and example rows.

Exit status: 0 when the export is usable; 2 when a table or a required column is missing
(nothing can be used); 1 when some table rejects more than --max-reject-rate of its rows.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile

HELP = "check an EHR export against the contract; report rejected rows by reason"

EXIT_UNUSABLE = 2
EXIT_TOO_MANY_REJECTED = 1


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", metavar="DIR", help="folder holding the five tables of the export")
    p.add_argument("--out", metavar="OUT", default=None,
                   help="folder for the typed tables ({table}.parquet), rejected rows "
                        "(rejected/{table}.parquet) and report.json; without it the check "
                        "runs in a temporary folder and keeps nothing")
    p.add_argument("--format", choices=["auto", "csv", "parquet"], default="auto",
                   help="which file to read when a table exists in several formats "
                        "(csv also reads .csv.gz); auto requires exactly one per table")
    p.add_argument("--max-reject-rate", type=float, default=0.05, metavar="FRACTION",
                   help="exit with status 1 when any table rejects more than this share of "
                        "its rows (0.05 = 5%%); 1 never fails on rejected rows")
    p.add_argument("--examples", type=int, default=2, metavar="N",
                   help="example rows printed per rejection reason")
    p.add_argument("--quiet", action="store_true", help="log warnings only (the summary still prints)")


def run(args: argparse.Namespace) -> int:
    from lang1core.export import ExportSchemaError, format_summary, validate_export
    from lang1core.logs import setup_logging

    setup_logging(level=logging.WARNING if args.quiet else logging.INFO)
    tmp = None
    out = args.out
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="lang1-validate-")
        out = tmp.name
    try:
        report = validate_export(args.dir, out, fmt=args.format, max_reject_rate=args.max_reject_rate)
    except ExportSchemaError as e:
        print(f"export {args.dir} is unusable:", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        return EXIT_UNUSABLE
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(format_summary(report, examples=args.examples))
    if args.out:
        print(f"\nwritten to {args.out} (report.json, {{table}}.parquet, rejected/)")
    return 0 if report["ok"] else EXIT_TOO_MANY_REJECTED
