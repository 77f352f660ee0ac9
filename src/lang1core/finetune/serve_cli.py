"""Serve a model directory behind an OpenAI-compatible completions endpoint
(POST /v1/completions; max_tokens 1 with top log-probabilities or n samples), the API that
`lang1core.finetune.endpoint.score_prompts` scores ReMedE prompts through."""

from __future__ import annotations

import argparse
from pathlib import Path

from lang1core.cli_args import bounded

HELP = "serve a model dir as an OpenAI-compatible /v1/completions endpoint"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model_dir", type=Path, help="HF Llama directory with tokenizer.model")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=bounded(int, 0, 65535), default=8000, help="TCP port (0: any free port)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--no-logprobs", action="store_true",
                   help="answer without log-probabilities (clients fall back to sampling)")


def run(args: argparse.Namespace) -> int:
    from lang1core.finetune.endpoint import make_server
    from lang1core.finetune.models import pick_device
    from lang1core.logs import setup_logging

    setup_logging()
    srv = make_server(args.model_dir, args.host, args.port, str(pick_device(args.device)),
                      logprobs=not args.no_logprobs)
    print(f"serving {args.model_dir} at http://{args.host}:{srv.server_address[1]}/v1")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
