"""Bounds on one request to `lang1 serve` (each a command-line option), apart from the gateway
so that `lang1 --help` does not import the web stack."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    body_bytes: int = 1 << 20
    prompt_chars: int = 32_000  # the study's notes are cut to 512 tokens; few-shot prompts hold several
    n: int = 32
    max_tokens: int = 16  # also the default, as OpenAI's; scoring asks for 1
    logprobs: int = 20
    body_seconds: float = 10.0  # for the client to send its whole body
    upstream_seconds: float = 120.0  # for the model server to answer
