"""Score a model directory on a ReMedE parquet file: one probability per option and the
question-answer perplexity for every example, written as a predictions parquet; prints
the AUROC when the file holds both classes."""

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
    p.add_argument("--max-note-tokens", type=positive_int, default=512, help="note tokens kept")
    p.add_argument("--k-shot", type=nonnegative_int, default=0,
                   help="solved examples prepended, from train.parquet beside EXAMPLES")
    p.add_argument("--batch-size", type=positive_int, default=16, help="examples per forward pass")
    p.add_argument("--max-examples", type=positive_int, default=None, help="score a seeded sample")
    p.add_argument("--seed", type=nonnegative_int, default=3407)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")


def run(args: argparse.Namespace) -> int:
    from lang1core.finetune import models as M
    from lang1core.finetune.data import auroc, read_task
    from lang1core.finetune.runs import pick_shots, prediction_frame, write_predictions
    from lang1core.finetune.scoring import encode_example, score
    from lang1core.logs import setup_logging

    setup_logging(level=logging.INFO)
    task = args.task or args.examples.parent.name
    data = read_task(args.examples, task).sample(args.max_examples, args.seed)
    model, tok, _ = M.load_base(args.model_dir, device=args.device)
    shots = []
    if args.k_shot:
        shots = pick_shots(read_task(args.examples.parent / "train.parquet", task),
                           args.k_shot, args.seed)
    enc = [encode_example(tok, t, data.question, data.options, int(y), args.max_note_tokens,
                          shots=shots, max_seq_len=M.max_seq_len(model), name=f"{args.examples} {e}")
           for t, y, e in zip(data.texts, data.labels, data.example_ids)]
    probs, ppl = score(model, enc, tok.pad_id, args.batch_size, progress=sys.stderr.isatty())
    frame = prediction_frame(data, probs, ppl)
    if args.out:
        write_predictions(args.out, frame)
        print(f"wrote {len(frame)} predictions to {args.out}")
    a = auroc(data.labels, probs) if len(data) else None
    print(f"{task}: {len(data)} examples, AUROC {a if a is None else round(a, 4)}, "
          f"median QA perplexity {float(frame['qa_ppl'].median() or 0):.2f}")
    return 0
