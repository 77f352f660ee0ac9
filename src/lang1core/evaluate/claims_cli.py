"""Judge the study's claims on a finished results folder (what the `claims` rule runs).

    lang1 claims results                                   # rules from ./config.yaml
    lang1 claims results-test --config config.yaml configs/test.yaml --out-md claims.md

Reads RESULTS/tables/{runs,auroc}.csv, RESULTS/predictions/ and RESULTS/remede/ (and the
oracle when present); the configs are merged in order, as `snakemake --configfile` does,
and their `claims:`, `figures:` and `evaluate:` sections set the rules. Writes claims.md and
tables/claims.csv (by default into RESULTS).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "the study's claims, reproduced or refuted with paired bootstrap intervals, from a results folder"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", type=Path, help="results folder of a finished run")
    p.add_argument("--config", type=Path, nargs="+", default=[Path("config.yaml")],
                   help="config files, merged in order")
    p.add_argument("--out-md", type=Path, default=None, help="default: RESULTS/claims.md")
    p.add_argument("--out-csv", type=Path, default=None, help="default: RESULTS/tables/claims.csv")


def run(args: argparse.Namespace) -> int:
    from lang1core.evaluate.claims import UNUSED_KINDS, ClaimSettings
    from lang1core.evaluate.claims_report import write_claims
    from lang1core.contracts import read_table
    from lang1core.logs import setup_logging
    from lang1core.settings import load_config

    setup_logging()
    config = load_config(args.config)
    settings = ClaimSettings.from_config(config)
    r = args.results
    runs = read_table(r / "tables" / "runs.csv", "runs")
    skip = {(m, rc) for m, rc, k in runs.select("model", "recipe", "kind").iter_rows() if k in UNUSED_KINDS}
    splits = {settings.split, settings.internal_split, "external", *settings.periods}
    preds = sorted(str(p) for p in r.glob("predictions/*/*/*/*.parquet")
                   if p.stem in splits and p.parent.name != "probe"
                   and (p.parents[2].name, p.parents[1].name) not in skip)
    if not preds:
        raise SystemExit(f"{r}/predictions: no prediction files of splits {sorted(splits)}")
    oracle = r / "oracle" / "oracle.parquet"
    write_claims(str(r / "tables" / "runs.csv"), str(r / "tables" / "auroc.csv"), preds,
                 sorted(str(p) for p in r.glob("remede/*/*.parquet")),
                 str(oracle) if oracle.exists() else None, settings, config["seed"],
                 list(config["remede"]["tasks"]), args.out_csv or r / "tables" / "claims.csv",
                 args.out_md or r / "claims.md", config=config, source=config["source"])
    print(f"wrote {args.out_md or r / 'claims.md'}")
    return 0
