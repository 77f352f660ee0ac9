"""Export a lang1 model directory (pretrain final/ or snapshot) as a Hugging Face Llama
directory that `transformers` loads and `transformers serve` or vLLM serve unchanged
(config.json, generation_config.json, model.safetensors, tokenizer.model), with a model card
(README.md). The card's training data, evaluation and
audit sections come from the files given (--mix-stats, --metrics, --audit); without them it
says they were not available at export time."""

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
    p.add_argument("--name", default=None, help="model name on the card (default: from lang1.json)")
    p.add_argument("--mix-stats", default=None, help="the pretraining mix's mix_stats.json, for the card")
    p.add_argument("--metrics", nargs="+", default=None, help="metrics JSON files (results/metrics/...), for the card")
    p.add_argument("--split", default="temporal_2024", help="split of the card's evaluation table")
    p.add_argument("--audit", default=None, help="the model's audit JSON (lang1 audit), for the card")


def run(args: argparse.Namespace) -> int:
    from lang1core.logs import setup_logging
    from lang1core.model.convert import convert

    from lang1core.audit.card import card_sections

    setup_logging()
    card = card_sections(name=args.name, mix_stats=args.mix_stats, metrics=args.metrics, audit=args.audit,
                         split=args.split)
    convert(args.model_dir, args.out_dir, tokenizer=args.tokenizer, dtype=args.dtype, check=args.check, card=card)
    return 0
