"""Score a model directory on a ReMedE parquet file: one probability per option and the
question-answer perplexity for every example, written as a predictions parquet; prints
the AUROC when the file holds both classes.

    lang1 score results/pretrain/lang1/final results/remede/los/test.parquet
    lang1 score MODEL EXAMPLES --config config.yaml configs/test.yaml --k-shot 0

With --config the settings are the workflow's (its `finetune:` section and seed, merged as
`snakemake --configfile` merges); without, ScoreSettings' defaults (the study's). Options
given on the command line win over either.
"""

from __future__ import annotations

import argparse
import sys
import logging
from pathlib import Path

from lang1core.cli_args import nonnegative_int, positive_int

HELP = "score a model (HF Llama dir with tokenizer.model) on a ReMedE split parquet"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model_dir", type=Path, help="model directory (config.json, safetensors, "
                   "tokenizer.model), e.g. results/pretrain/lang1/final")
    p.add_argument("examples", type=Path, help="ReMedE parquet, e.g. results/remede/los/test.parquet")
    p.add_argument("--task", help="task name (default: the parquet's parent folder)")
    p.add_argument("--out", type=Path, help="predictions parquet to write")
    p.add_argument("--config", type=Path, nargs="+", default=None,
                   help="workflow config files, merged in order, whose finetune: section and seed are used")
    p.add_argument("--max-note-tokens", type=positive_int, default=None, help="note tokens kept")
    p.add_argument("--k-shot", type=nonnegative_int, default=None,
                   help="solved examples prepended, from train.parquet beside EXAMPLES")
    p.add_argument("--batch-size", type=positive_int, default=None, help="examples per forward pass")
    p.add_argument("--max-examples", type=positive_int, default=None, help="score a seeded sample")
    p.add_argument("--seed", type=nonnegative_int, default=None)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")


def score_settings(args: argparse.Namespace):
    """ScoreSettings from --config (as the workflow's rules build them) or the defaults, then
    the options given on the command line."""
    from dataclasses import replace

    from lang1core.finetune.runs import ScoreSettings, settings_from_config
    from lang1core.settings import load_config

    if args.config:
        config = load_config(args.config)
        settings, _ = settings_from_config(config["finetune"], config["seed"])
    else:
        settings = ScoreSettings()
    given = {"max_note_tokens": args.max_note_tokens, "k_shot": args.k_shot,
             "batch_size": args.batch_size, "max_examples": args.max_examples, "seed": args.seed}
    return replace(settings, **{k: v for k, v in given.items() if v is not None})


def run(args: argparse.Namespace) -> int:
    from lang1core.finetune import models as M
    from lang1core.finetune.data import auroc, read_task
    from lang1core.finetune.runs import pick_shots, prediction_frame, write_predictions
    from lang1core.finetune.scoring import encode_example, score
    from lang1core.logs import setup_logging

    setup_logging(level=logging.INFO)
    s = score_settings(args)
    task = args.task or args.examples.parent.name
    data = read_task(args.examples, task).sample(s.max_examples, s.seed)
    model, tok, _ = M.load_base(args.model_dir, device=args.device)
    shots = []
    if s.k_shot:
        shots = pick_shots(read_task(args.examples.parent / "train.parquet", task), s.k_shot, s.seed)
    enc = [encode_example(tok, t, data.question, data.options, int(y), s.max_note_tokens,
                          shots=shots, max_seq_len=M.max_seq_len(model), name=f"{args.examples} {e}")
           for t, y, e in zip(data.texts, data.labels, data.example_ids)]
    probs, ppl = score(model, enc, tok.pad_id, s.batch_size, progress=sys.stderr.isatty())
    frame = prediction_frame(data, probs, ppl)
    if args.out:
        write_predictions(args.out, frame)
        print(f"wrote {len(frame)} predictions to {args.out}")
    a = auroc(data.labels, probs) if len(data) else None
    print(f"{task}: {len(data)} examples, AUROC {a if a is None else round(a, 4)}, "
          f"median QA perplexity {float(frame['qa_ppl'].median() or 0):.2f}")
    return 0
