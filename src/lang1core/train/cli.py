"""Pretrain a model on token shards outside the workflow (a rerun resumes the run folder).

Example:
    lang1 pretrain --shards results/shards/clinical_general --tokenizer results/tokenizer/spm.model \\
        --out runs/lang1 --preset debug --set tokens=262144 --set lr=1e-3 --gpus 0
"""

from __future__ import annotations

import argparse
import json

from lang1core.cli_args import nonnegative_int

HELP = "pretrain a preset on token shards (resumes from the run folder's checkpoints)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shards", required=True, help="mix folder with index.json (R/shards/{mix})")
    p.add_argument("--tokenizer", required=True, help="SentencePiece model (R/tokenizer/spm.model)")
    p.add_argument("--out", required=True, help="run folder: checkpoints/, metrics.csv, final/")
    p.add_argument("--preset", default="debug", help="debug | smol-100m | tinyllama-1b | llama2-7b")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a TrainConfig setting, value as JSON (e.g. tokens=1000000, betas=[0.9,0.95])")
    p.add_argument("--gpus", type=nonnegative_int, default=0, help="0 = CPU; >1 launches torchrun with FSDP")
    p.add_argument("--seed", type=nonnegative_int, default=3407)


def run(args: argparse.Namespace) -> int:
    from lang1core.logs import setup_logging
    from lang1core.train.pretrain import launch

    setup_logging()
    train: dict = {"seed": args.seed}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE")
        try:
            train[key] = json.loads(value)
        except json.JSONDecodeError:
            train[key] = value
    launch(dict(run_dir=args.out, shard_dir=args.shards, tokenizer_model=args.tokenizer,
                model_section={"preset": args.preset}, preset=args.preset, train=train,
                label=args.preset), gpus=args.gpus)
    return 0
