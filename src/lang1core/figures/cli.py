"""Draw the study's figures from an evaluation tables folder, outside Snakemake.

    lang1 figures results/tables results/figures            # every figure and table
    lang1 figures results/tables out --only fig2a figK8     # some of them
    lang1 figures --demo out                                # made-up tables, to preview

Missing tables or rows draw labelled "not run" panels rather than failing.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from lang1core.cli_args import positive_int

HELP = "draw the study's figures (PDF/PNG) from an evaluation tables folder"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from lang1core.figures.registry import DATASET_TABLES, FIGURES

    p.add_argument("tables", nargs="?", type=Path,
                   help="folder with runs.csv, auroc.csv, ... (R/tables); omit with --demo")
    p.add_argument("out", type=Path, help="folder the figures are written to")
    p.add_argument("--only", nargs="+", choices=[*FIGURES, *DATASET_TABLES], metavar="NAME",
                   help="figures to draw (default: all)")
    p.add_argument("--formats", nargs="+", default=["pdf", "png"], choices=["pdf", "png", "svg"])
    p.add_argument("--dpi", type=positive_int, default=300, help="PNG resolution")
    p.add_argument("--split", default="temporal_2024", help="headline test split")
    p.add_argument("--primary-model", default="lang1", help="model of the single-model figures")
    p.add_argument("--note", default=None, help="footer printed on every figure")
    p.add_argument("--demo", action="store_true",
                   help="draw from made-up contract-shaped tables (footer says so)")


def run(args: argparse.Namespace) -> int:
    from lang1core.figures import render_all
    from lang1core.figures.common import Options
    from lang1core.figures.fixtures import write_tables
    from lang1core.figures.style import Style
    from lang1core.logs import setup_logging

    setup_logging(level=logging.WARNING)
    note = args.note
    if args.demo:
        tables = Path(tempfile.mkdtemp(prefix="lang1-demo-tables-"))
        write_tables(tables)
        note = note or "demo data (made up)"
    elif args.tables is None:
        raise SystemExit("lang1 figures: give a tables folder, or --demo")
    else:
        tables = args.tables
        if not tables.is_dir():
            raise SystemExit(f"lang1 figures: {tables} is not a folder")
    options = Options(style=Style(dpi=args.dpi, formats=tuple(args.formats)), split=args.split,
                      primary_model=args.primary_model, note=note)
    written = render_all(tables, args.out, options, args.only)
    print(f"wrote {len(written)} files to {args.out}")
    return 0
