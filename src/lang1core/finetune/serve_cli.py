"""Serve an exported model (`lang1 export-hf`) as an OpenAI-compatible completions endpoint
(POST /v1/completions), the API `lang1core.finetune.endpoint.score_prompts` scores through.

`transformers serve` runs the model on a loopback port; in front of it, a gateway
(`lang1core.finetune.gateway`) asks every request for a bearer token, bounds its size, `n`,
`max_tokens`, `logprobs` and prompt, and times out slow clients and a slow model. The token
comes from the LANG1_SERVE_TOKEN environment variable or --token-file, never the command line
(where `ps` would show it). The gateway listens on localhost unless --host says otherwise, and
then only with TLS (--ssl-certfile, --ssl-keyfile): a bearer token must not cross a network in
clear text.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import re
import signal
import sys
from pathlib import Path

from lang1core.cli_args import bounded
from lang1core.finetune.serve_limits import Limits

HELP = "serve an exported model as an authenticated OpenAI-compatible /v1/completions endpoint"
TOKEN_ENV = "LANG1_SERVE_TOKEN"
MIN_TOKEN_CHARS = 16

log = logging.getLogger(__name__)


def device(text: str) -> str:
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not auto, cpu, mps, cuda or cuda:N")
    return text


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = Limits()
    p.add_argument("model_dir", type=Path, help="exported Hugging Face Llama directory (lang1 export-hf)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on; other than loopback needs TLS")
    p.add_argument("--port", type=bounded(int, 1, 65535), default=8000, help="port to listen on")
    p.add_argument("--device", type=device, default="auto", help="auto, cpu, mps, cuda, cuda:N")
    p.add_argument("--name", default=None, help="model name clients send; the directory's name if not given")
    p.add_argument("--token-file", type=Path, default=None,
                   help=f"file holding the bearer token; the {TOKEN_ENV} environment variable if not given")
    p.add_argument("--ssl-certfile", type=Path, default=None, help="TLS certificate (PEM)")
    p.add_argument("--ssl-keyfile", type=Path, default=None, help="TLS private key (PEM)")
    p.add_argument("--max-body-bytes", type=bounded(int, 1024, 64 << 20), default=d.body_bytes,
                   help="largest request body")
    p.add_argument("--max-prompt-chars", type=bounded(int, 1, 1_000_000), default=d.prompt_chars,
                   help="longest prompt, in characters (the model's context bounds its tokens)")
    p.add_argument("--max-n", type=bounded(int, 1, 256), default=d.n, help="most completions per request")
    p.add_argument("--max-tokens", type=bounded(int, 1, 4096), default=d.max_tokens,
                   help="most tokens per completion (also the default)")
    p.add_argument("--max-logprobs", type=bounded(int, 0, 100), default=d.logprobs,
                   help="most top log-probabilities a request may ask for")
    p.add_argument("--body-timeout", type=bounded(float, 0.1, 600), default=d.body_seconds,
                   help="seconds a client has to send its request body")
    p.add_argument("--model-timeout", type=bounded(float, 1, 3600), default=d.upstream_seconds,
                   help="seconds the model has to answer one request")
    p.add_argument("--max-connections", type=bounded(int, 1, 4096), default=64,
                   help="open connections beyond this are answered 503")
    p.add_argument("--start-timeout", type=bounded(float, 1, 3600), default=600,
                   help="seconds the model server has to load the model")


def read_token(token_file: Path | None) -> str:
    """The bearer token from `token_file` or the environment; refuses a missing or short one."""
    if token_file is not None:
        if not token_file.is_file():
            raise SystemExit(f"lang1 serve: --token-file {token_file}: no such file")
        token, where = token_file.read_text().strip(), str(token_file)
    else:
        token, where = os.environ.get(TOKEN_ENV, "").strip(), TOKEN_ENV
        if not token:
            raise SystemExit(f"lang1 serve: no bearer token: set {TOKEN_ENV} or pass --token-file "
                             "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))' > token)")
    if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
        raise SystemExit(f"lang1 serve: the token in {where} must be at least {MIN_TOKEN_CHARS} characters "
                         "without spaces")
    return token


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from lang1core.finetune import upstream
    from lang1core.finetune.gateway import make_app, server_config
    from lang1core.logs import setup_logging

    setup_logging()
    token = read_token(args.token_file)
    if not is_loopback(args.host) and not (args.ssl_certfile and args.ssl_keyfile):
        raise SystemExit(f"lang1 serve: --host {args.host} is reachable from the network: "
                         "give --ssl-certfile and --ssl-keyfile so the token travels encrypted")
    limits = Limits(body_bytes=args.max_body_bytes, prompt_chars=args.max_prompt_chars, n=args.max_n,
                    max_tokens=args.max_tokens, logprobs=args.max_logprobs, body_seconds=args.body_timeout,
                    upstream_seconds=args.model_timeout)
    name = args.name or args.model_dir.resolve().name
    # uvicorn hands SIGTERM back to the handler it found once it has shut down: exiting from
    # it (not dying of it) runs the `finally` that stops the model server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        proc, port = upstream.start(args.model_dir, device=args.device, ready_timeout=args.start_timeout)
    except (FileNotFoundError, RuntimeError, TimeoutError) as e:
        raise SystemExit(f"lang1 serve: {e}") from None
    try:
        app = make_app(f"http://{upstream.LOOPBACK}:{port}", name, token, limits)
        scheme = "https" if args.ssl_certfile else "http"
        log.info("serving %s as %r at %s://%s:%d/v1", args.model_dir.name, name, scheme, args.host, args.port)
        uvicorn.Server(server_config(app, args.host, args.port, args.max_connections,
                                     args.ssl_certfile, args.ssl_keyfile)).run()
    finally:
        upstream.stop(proc)
    return 0
