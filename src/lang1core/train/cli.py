"""Pretrain a model on token shards outside the workflow (a rerun resumes the run folder).

Examples:
    # exactly the workflow's run of model `lang1` (its settings, preset, seed and GPUs)
    lang1 pretrain --config config.yaml --model lang1 --shards results/shards/clinical_general \\
        --tokenizer results/tokenizer/spm.model --out runs/lang1
    # the study's settings (TrainConfig's defaults) with a few changed
    lang1 pretrain --shards results/shards/clinical_general --tokenizer results/tokenizer/spm.model \\
        --out runs/lang1 --preset debug --set tokens=262144 --set lr=1e-3 --gpus 0

With --config (files merged in order, as `snakemake --configfile` merges) the run's settings
are built by the same function as the workflow's `pretrain` rule; --preset, --seed, --gpus
and --set change them on top.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lang1core.cli_args import nonnegative_int

HELP = "pretrain a preset on token shards (resumes from the run folder's checkpoints)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shards", required=True, help="mix folder with index.json (R/shards/{mix})")
    p.add_argument("--tokenizer", required=True, help="SentencePiece model (R/tokenizer/spm.model)")
    p.add_argument("--out", required=True, help="run folder: checkpoints/, metrics.csv, final/")
    p.add_argument("--config", type=Path, nargs="+", default=None,
                   help="workflow config files, merged in order; the run is --model's of pretrain.models")
    p.add_argument("--model", default=None, help="a name under pretrain.models (with --config)")
    p.add_argument("--preset", default=None,
                   help="debug | smol-100m | tinyllama-1b | llama2-7b; unset: the config's, else debug")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a TrainConfig setting, value as JSON (e.g. tokens=1000000, betas=[0.9,0.95])")
    p.add_argument("--gpus", type=nonnegative_int, default=None,
                   help="0 = CPU; >1 launches torchrun with FSDP; unset: pretrain.gpus, else 0")
    p.add_argument("--seed", type=nonnegative_int, default=None,
                   help="unset: the config's seed, else TrainConfig's")


def parse_sets(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def run_spec(args: argparse.Namespace) -> tuple[dict, int]:
    """The keyword arguments of `pretrain()` and the GPU count: with --config, what the
    workflow's rule gives for --model; then the command line's changes."""
    from lang1core.settings import ConfigError, load_config
    from lang1core.train.config import TrainConfig, preset_of, train_config

    if args.config:
        config = load_config(args.config)
        models = list(config["pretrain"]["models"])
        model = args.model or (models[0] if len(models) == 1 else None)
        if model is None:
            raise ConfigError(f"--model: choose one of pretrain.models {models}")
        train = train_config(config, model)
        model_section, preset = dict(config["model"]), preset_of(config, model)
        gpus, label = config["pretrain"]["gpus"], model
    else:
        if args.model:
            raise SystemExit("--model names a model of pretrain.models: give --config too")
        # Without a config: the study's settings on the debug preset, on CPU.
        train, model_section, preset, gpus = TrainConfig(), {}, "debug", 0
        label = args.preset or preset
    changes = parse_sets(args.set)
    if args.seed is not None:
        changes["seed"] = args.seed
    if changes:
        train = TrainConfig.from_dict({**train.to_dict(), **changes}, source="--set")
    preset = args.preset or preset  # pretrain() puts it into the model section
    spec = dict(run_dir=args.out, shard_dir=args.shards, tokenizer_model=args.tokenizer,
                model_section=model_section, preset=preset, train=train.to_dict(), label=label)
    return spec, gpus if args.gpus is None else args.gpus


def run(args: argparse.Namespace) -> int:
    from lang1core.logs import setup_logging
    from lang1core.train.pretrain import launch

    setup_logging()
    spec, gpus = run_spec(args)
    launch(spec, gpus=gpus)
    return 0
