"""Export a lang1 model directory (pretrain final/ or snapshot) as a Hugging Face Llama
directory that `transformers` loads unchanged (config.json, model.safetensors,
tokenizer.model)."""

from __future__ import annotations

import argparse

HELP = "export a lang1 model directory as a Hugging Face Llama directory"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model_dir", help="lang1 model directory (e.g. results/pretrain/lang1/final)")
    p.add_argument("out_dir", help="directory to write")
    p.add_argument("--tokenizer", default=None, help="SentencePiece model (default: the one in model_dir)")
    p.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default=None,
                   help="cast the weights (default: as stored)")
    p.add_argument("--check", action="store_true", help="load the result with transformers and compare logits")


def run(args: argparse.Namespace) -> int:
    from lang1core.logs import setup_logging
    from lang1core.model.convert import convert

    setup_logging()
    convert(args.model_dir, args.out_dir, tokenizer=args.tokenizer, dtype=args.dtype, check=args.check)
    return 0
