"""Build the ReMedE tasks (docs/study.md#tasks-and-labels) from a validated export outside
the workflow: task files per split, the probe, manifest.json, Tables B1-B7 under OUT/stats and lm-eval task
files under OUT/lm_eval. With --config the tasks are built as the workflow builds them (its
`remede:` section, seed and held_out_site); without, BuildConfig's defaults (the study's).
Options given on the command line win over either."""

from __future__ import annotations

import argparse

from lang1core.cli_args import fraction, nonnegative_float, nonnegative_int, positive_int

HELP = "build the ReMedE task files, tables and lm-eval tasks from a validated export"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("validated", help="folder of validated tables (the export stage's R/validated)")
    p.add_argument("out", help="output folder (R/remede)")
    p.add_argument("--config", nargs="+", default=None,
                   help="workflow config files, merged in order, whose remede: section, seed and "
                        "held_out_site are used")
    p.add_argument("--seed", type=nonnegative_int, default=None, help="seed of the train/val/test hash")
    p.add_argument("--held-out-site", default=None, help="site whose examples form the external split")
    p.add_argument("--tasks", nargs="+", default=None, help="tasks to build (default: all five)")
    p.add_argument("--los-edges", type=nonnegative_float, nargs="+", default=None,
                   help="fixed LOS upper bin edges in days, e.g. 2 3 5 (default: train-split quartiles)")
    p.add_argument("--split-by", choices=["patient", "encounter"], default=None,
                   help="unit assigned to train/val/test")
    p.add_argument("--max-leakage-rate", type=fraction, default=None,
                   help="largest share of a task's notes that may match its leakage patterns")
    p.add_argument("--max-note-tokens", type=positive_int, default=None,
                   help="note tokens the lm-eval tasks keep (the first ones, as the scorer; unset: "
                        "finetune.max_note_tokens, else ScoreSettings')")
    p.add_argument("--log", default=None, help="also log to this file")


def build_settings(args: argparse.Namespace):
    """(BuildConfig, lm-eval note tokens): what rules remede_tasks and remede_lm_eval use for
    --config (or the defaults), then the command line's options."""
    import copy

    from lang1core.finetune.runs import ScoreSettings
    from lang1core.remede.config import BuildConfig
    from lang1core.settings import load_config

    section, fixed, note_tokens = {}, {}, ScoreSettings.max_note_tokens
    if args.config:
        config = load_config(args.config)
        section = copy.deepcopy(config["remede"])
        fixed = {"seed": config["seed"], "held_out_site": config["held_out_site"]}
        note_tokens = config["finetune"]["max_note_tokens"]
    if args.seed is not None:
        fixed["seed"] = args.seed
    if args.held_out_site is not None:
        fixed["held_out_site"] = args.held_out_site
    if args.split_by:
        section["split_by"] = args.split_by
    if args.max_leakage_rate is not None:
        section["leakage"] = {**(section.get("leakage") or {}), "max_rate": args.max_leakage_rate}
    if args.tasks:
        section["tasks"] = args.tasks
    if args.los_edges:
        section["los"] = {**(section.get("los") or {}), "edges": args.los_edges}
    return BuildConfig.from_dict(section, **fixed), args.max_note_tokens or note_tokens


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from lang1core.logs import setup_logging
    from lang1core.private_files import make_private
    from lang1core.remede.build import build_remede
    from lang1core.remede.leakage import LeakageError
    from lang1core.remede.lm_eval_files import write_lm_eval
    from lang1core.remede.tables import write_tables
    from lang1core.remede.tasks import TEST_SPLITS

    setup_logging(args.log)
    try:
        cfg, note_tokens = build_settings(args)
        manifest = build_remede(args.validated, args.out, cfg)
    except (LeakageError, ValueError, FileNotFoundError) as e:
        # Options that contradict each other, a missing or stale validated table, a leak.
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    write_tables(out, manifest, out / "stats")
    write_lm_eval(out, out / "lm_eval", list(cfg.tasks), list(TEST_SPLITS), probe_splits=list(cfg.probe_splits),
                  max_note_tokens=note_tokens)
    # The stats and lm-eval files sit beside the task files; the folder stays owner-only.
    make_private(out)
    for task, info in manifest["tasks"].items():
        print(f"{task:<12} {info['examples']:>8} examples  " +
              "  ".join(f"{s}={c['examples']}" for s, c in info["splits"].items()))
    return 0
