"""Draw the study's figures from an evaluation tables folder, outside Snakemake.

    lang1 figures results/tables results/figures            # every figure and table
    lang1 figures results/tables out --only fig2a figK8     # some of them
    lang1 figures --demo out                                # made-up tables, to preview
    lang1 figures results/tables out --config config.yaml   # the workflow's figure settings

Without --config the figures take Options' defaults (lang1core.figures.common); options given
on the command line win over either. Missing tables or rows draw labelled "not run" panels
rather than failing.
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
    p.add_argument("--config", type=Path, nargs="+", default=None,
                   help="workflow config files, merged in order, whose figures: section and source are used")
    p.add_argument("--formats", nargs="+", default=None, choices=["pdf", "png", "svg"])
    p.add_argument("--dpi", type=positive_int, default=None, help="PNG resolution")
    p.add_argument("--split", default=None, help="headline test split")
    p.add_argument("--primary-model", default=None, help="model of the single-model figures")
    p.add_argument("--note", default=None, help="footer printed on every figure")
    p.add_argument("--demo", action="store_true",
                   help="draw from made-up contract-shaped tables (footer says so)")


def figure_options(args: argparse.Namespace):
    """Options as rule `figure_*` builds them from --config's `figures:` section (or the
    defaults), then the command line's."""
    from lang1core.figures.common import options_from_config
    from lang1core.settings import load_config

    section, source = {}, None
    if args.config:
        config = load_config(args.config)
        section, source = dict(config["figures"]), config["source"]
    for key in ("formats", "dpi", "split", "primary_model", "note"):
        if getattr(args, key) is not None:
            section[key] = getattr(args, key)
    if args.demo:
        section["note"] = args.note or "demo data (made up)"
    return options_from_config(section, source)


def run(args: argparse.Namespace) -> int:
    from lang1core.figures import render_all
    from lang1core.figures.fixtures import write_tables
    from lang1core.logs import setup_logging

    setup_logging(level=logging.WARNING)
    if args.demo:
        tables = Path(tempfile.mkdtemp(prefix="lang1-demo-tables-"))
        write_tables(tables)
    elif args.tables is None:
        raise SystemExit("lang1 figures: give a tables folder, or --demo")
    else:
        tables = args.tables
        if not tables.is_dir():
            raise SystemExit(f"lang1 figures: {tables} is not a folder")
    options = figure_options(args)
    written = render_all(tables, args.out, options, args.only)
    print(f"wrote {len(written)} files to {args.out}")
    return 0
