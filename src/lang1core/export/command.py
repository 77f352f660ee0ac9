"""Check a site's EHR export against the lang1 export contract (docs/architecture.md#export-tables)
and say whether it is ready.

Reads patients, encounters, notes, diagnoses and claims (.csv, .csv.gz or .parquet) from
DIR, rejects every row that cannot be used with a reason naming file, row and column (never
the value of an identifier, date or note text), prints per-table counts with the most common
reasons and example rows, then a readiness report per task: eligible examples, whether its
labels can be derived, note types needed against found, sites against held_out_site.

How the export differs from the contract (column names, note type names, date format, time
zone, encoding, delimiter) is read from the `export:` section of --config, and the tasks from
its `remede:` section and `held_out_site`; the options below override them.

Exit status: 0 when the export is usable and every configured task gets examples; 2 when the
input is unusable (a table, column or file that cannot be read, a core table without rows, a
bad mapping, or a configured task that would be empty); 1 when some table rejects more than
--max-reject-rate of its rows; 3 on an internal error.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
import traceback
from pathlib import Path

from lang1core.cli_args import fraction, nonnegative_int

HELP = "check an EHR export against the contract; report rejected rows and per-task readiness"

EXIT_UNUSABLE = 2
EXIT_TOO_MANY_REJECTED = 1
EXIT_INTERNAL = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", metavar="DIR", help="folder holding the five tables of the export")
    p.add_argument("--out", metavar="OUT", default=None,
                   help="folder for the typed tables ({table}.parquet), rejected rows "
                        "(rejected/{table}.parquet) and report.json; without it the check "
                        "runs in a temporary folder and keeps nothing")
    p.add_argument("--config", metavar="YAML", default=None,
                   help="workflow config (e.g. config.yaml) whose export:, remede: and held_out_site "
                        "keys say how to read the export and which tasks it must feed")
    p.add_argument("--format", choices=["auto", "csv", "parquet"], default=None,
                   help="which file to read when a table exists in several formats "
                        "(csv also reads .csv.gz); auto requires exactly one per table [auto]")
    p.add_argument("--max-reject-rate", type=fraction, default=None, metavar="FRACTION",
                   help="exit with status 1 when any table rejects more than this share of "
                        "its rows (0.05 = 5%%); 1 never fails on rejected rows [0.05]")
    p.add_argument("--encoding", default=None, help="text encoding of the CSV files, e.g. cp1252 [utf-8]")
    p.add_argument("--delimiter", default=None, help="CSV field delimiter, e.g. ';' [,]")
    p.add_argument("--date-format", default=None, help="strptime format of dates, e.g. %%m/%%d/%%Y [ISO-8601]")
    p.add_argument("--time-zone", default=None,
                   help="IANA zone that times with an offset or tz-aware parquet are converted to [UTC]")
    p.add_argument("--tasks", nargs="+", default=None, help="tasks the export must feed [all five]")
    p.add_argument("--held-out-site", default=None, help="site that forms the external split")
    p.add_argument("--skip-readiness", action="store_true",
                   help="check the contract only, not what each task would get")
    p.add_argument("--examples", type=nonnegative_int, default=2, metavar="N",
                   help="example rows printed per rejection reason")
    p.add_argument("--show-values", action="store_true",
                   help="also print the rejected values of the example rows, on this terminal only "
                        "(never in report.json or logs); they may be patient data")
    p.add_argument("--quiet", action="store_true", help="log warnings only (the summary still prints)")


def _settings(args: argparse.Namespace):
    """The mapping, task config and reject rate from --config and the options."""
    import yaml

    from lang1core.export.mapping import ExportMapping
    from lang1core.private_files import DIR_MODE, FILE_MODE, parse_mode
    from lang1core.remede.config import BuildConfig

    conf: dict = {}
    if args.config:
        try:
            conf = yaml.safe_load(Path(args.config).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ValueError(f"{args.config}: cannot read the config ({str(e).splitlines()[0]})") from None
        if not isinstance(conf, dict):
            raise ValueError(f"{args.config}: not a YAML mapping")
    export = dict(conf.get("export") or {})
    for key in ("encoding", "delimiter", "date_format", "time_zone", "format", "max_reject_rate"):
        if getattr(args, key) is not None:
            export[key] = getattr(args, key)
    remede = dict(conf.get("remede") or {})
    if args.tasks:
        remede["tasks"] = args.tasks
    held_out = args.held_out_site if args.held_out_site is not None else conf.get("held_out_site")
    tasks = BuildConfig.from_dict(remede, seed=conf.get("seed", 3407), held_out_site=held_out)
    modes = {"file_mode": parse_mode(export.get("file_mode"), FILE_MODE, "export.file_mode"),
             "dir_mode": parse_mode(export.get("dir_mode"), DIR_MODE, "export.dir_mode")}
    return (ExportMapping.from_dict(export), tasks, export.get("format", "auto"),
            export.get("max_reject_rate", 0.05), modes)


def _print_values(out: Path, report: dict, examples: int) -> None:
    """Example rejected values from rejected/{table}.parquet, to this terminal only."""
    import polars as pl

    print("\nrejected values (terminal only):")
    for name, r in report["tables"].items():
        if not r["rejected"]:
            continue
        rej = pl.read_parquet(out / "rejected" / f"{name}.parquet")
        for reason in r["reasons"]:
            for rec in rej.filter(pl.col("reason") == reason).head(examples).iter_rows(named=True):
                m = re.search(r"column (\w+)", rec["detail"] or "")
                if m:  # reasons about a pair of columns (ordering) or a whole record have no one value
                    print(f"  {name}, row {rec['row']}, column {m.group(1)}: {rec.get(m.group(1))!r}"[:200])


def run(args: argparse.Namespace) -> int:
    from lang1core.logs import setup_logging

    setup_logging(level=logging.WARNING if args.quiet else logging.INFO)
    try:
        return _run(args)
    except Exception as e:  # noqa: BLE001 (a user sees a message and a code, not a traceback)
        frame = traceback.extract_tb(e.__traceback__)[-1]
        # The message itself may quote data; the type and the place are enough to report it.
        print(f"internal error: {type(e).__name__} in {Path(frame.filename).name}:{frame.lineno} "
              f"({frame.name}); please report it", file=sys.stderr)
        return EXIT_INTERNAL


def _run(args: argparse.Namespace) -> int:
    from lang1core.export import ExportSchemaError, format_summary, validate_export
    from lang1core.remede.readiness import format_readiness

    try:
        mapping, tasks, fmt, max_reject_rate, modes = _settings(args)
    except (ValueError, KeyError) as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return EXIT_UNUSABLE
    tmp = None
    out = args.out
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="lang1-validate-")
        out = tmp.name
    try:
        try:
            report = validate_export(args.dir, out, fmt=fmt, max_reject_rate=max_reject_rate,
                                     mapping=mapping, tasks=None if args.skip_readiness else tasks, **modes)
        except ExportSchemaError as e:
            print(f"export {args.dir} is unusable:", file=sys.stderr)
            for p in e.problems:
                print(f"  {p}", file=sys.stderr)
            return EXIT_UNUSABLE
        print(format_summary(report, examples=args.examples))
        if "readiness" in report:
            print(format_readiness(report["readiness"]))
        if args.show_values:
            _print_values(Path(out), report, args.examples)
    finally:
        if tmp is not None:
            tmp.cleanup()
    if args.out:
        print(f"\nwritten to {args.out} (report.json, {{table}}.parquet, rejected/)")
    if report.get("readiness", {}).get("errors"):
        return EXIT_UNUSABLE
    return 0 if report["ok"] else EXIT_TOO_MANY_REJECTED
