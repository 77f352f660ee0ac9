"""Import a Hugging Face Llama directory (e.g. a local Llama-2 or TinyLlama download) as a
lang1 model directory, usable as a base model for finetuning (config `finetune.hf_models`
may also point at the original directory directly)."""

from __future__ import annotations

import argparse

HELP = "import a Hugging Face Llama directory as a lang1 model directory"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("hf_dir", help="transformers Llama directory (config.json + safetensors or .bin)")
    p.add_argument("out_dir", help="directory to write")
    p.add_argument("--tokenizer", default=None, help="SentencePiece model (default: hf_dir/tokenizer.model)")
    p.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default=None,
                   help="cast the weights (default: as stored)")
    p.add_argument("--check", action="store_true", help="compare our logits with transformers' after import")


def run(args: argparse.Namespace) -> int:
    from lang1core.logs import setup_logging
    from lang1core.model.convert import convert

    setup_logging()
    convert(args.hf_dir, args.out_dir, tokenizer=args.tokenizer, dtype=args.dtype,
            extra={"imported_from": str(args.hf_dir)}, check=args.check)
    return 0
