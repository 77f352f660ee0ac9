"""Score ReMedE prompts with a model behind an OpenAI-compatible completions endpoint
(`POST {base_url}/completions`: vLLM, `transformers serve`, or `lang1 serve` in front of it).

With log-probabilities offered (`logprobs: k` returns the top-k next tokens, as vLLM does), an
option's score is the probability of its letter as the first answer token (" A" and "A"
pooled), renormalised over the options. Otherwise the study's approximation: `samples`
one-token completions at temperature 1, the first letter of each counted per option (uniform
when none match). A server that ignores `n` (transformers serve answers one completion per
request) is asked again, with the next seed, until `samples` completions are in; seeded
requests make the count repeatable (on one server: seeds are not portable across servers).
"""

from __future__ import annotations

import json
import logging
import math
import urllib.error
import urllib.request
from collections.abc import Sequence

import numpy as np

from lang1core.remede.prompts import LETTERS

log = logging.getLogger(__name__)
# Completions asked for in one request: within `lang1 serve`'s default bound on `n`.
N_PER_REQUEST = 16


class EndpointError(RuntimeError):
    """The endpoint refused a request or answered something that is not a completion."""


def post_json(url: str, body: dict, api_key: str | None, timeout: float) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if api_key:
        req.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        # The server's reason (its `detail`), never the request: the prompt holds note text.
        raise EndpointError(f"{url}: HTTP {e.code}: {e.read()[:500].decode(errors='replace')}") from None


def letter_of(token: str, n_options: int) -> int | None:
    t = token.strip()
    return LETTERS.index(t) if len(t) == 1 and t in LETTERS[:n_options] else None


def _top_logprobs(url: str, model: str, prompt: str, k: int, api_key: str | None,
                  timeout: float) -> dict | None:
    """The first answer token's top-k {token: log-probability}, or None from a server that
    does not give them."""
    out = post_json(url, {"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 0,
                          "logprobs": k}, api_key, timeout)
    try:
        return ((out["choices"][0].get("logprobs") or {}).get("top_logprobs") or [None])[0]
    except (KeyError, IndexError, TypeError):
        raise EndpointError(f"{url}: the answer has no choices") from None


def _sampled_letters(url: str, model: str, prompt: str, n_options: int, samples: int, seed: int,
                     api_key: str | None, timeout: float) -> np.ndarray:
    counts = np.zeros(n_options)
    got = 0
    while got < samples:
        out = post_json(url, {"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 1.0,
                              "n": min(samples - got, N_PER_REQUEST), "seed": seed + got}, api_key, timeout)
        choices = (out.get("choices") or [])[: samples - got]
        if not choices:
            raise EndpointError(f"{url}: the answer has no choices")
        for choice in choices:
            k = letter_of(choice.get("text", ""), n_options)
            if k is not None:
                counts[k] += 1
        got += len(choices)
    return counts


def _score(url: str, model: str, prompt: str, n_options: int, samples: int, top_logprobs: int,
           api_key: str | None, timeout: float, use_logprobs: bool,
           seed: int) -> tuple[np.ndarray, str, bool]:
    """(probabilities, method, whether the server gave log-probabilities)."""
    top = _top_logprobs(url, model, prompt, top_logprobs, api_key, timeout) if use_logprobs else None
    if top:
        mass = np.zeros(n_options)
        for token, lp in top.items():
            k = letter_of(token, n_options)
            if k is not None:
                mass[k] += math.exp(lp)
        if mass.sum() > 0:
            return mass / mass.sum(), "logprobs", True
    elif use_logprobs:
        log.warning("endpoint %s gives no log-probabilities; sampling %d completions instead",
                    url, samples)
    counts = _sampled_letters(url, model, prompt, n_options, samples, seed, api_key, timeout)
    probs = counts / counts.sum() if counts.sum() else np.full(n_options, 1.0 / n_options)
    return probs, "sampling", bool(top)


def score_prompt(base_url: str, model: str, prompt: str, n_options: int, *, samples: int = 10,
                 top_logprobs: int = 20, api_key: str | None = None, timeout: float = 60,
                 use_logprobs: bool = True, seed: int = 0) -> tuple[np.ndarray, str]:
    """(probabilities [K], method 'logprobs' | 'sampling') for one prompt."""
    url = base_url.rstrip("/") + "/completions"
    return _score(url, model, prompt, n_options, samples, top_logprobs, api_key, timeout,
                  use_logprobs, seed)[:2]


def score_prompts(base_url: str, model: str, prompts: Sequence[str], n_options: int, *,
                  samples: int = 10, top_logprobs: int = 20, api_key: str | None = None,
                  timeout: float = 60, use_logprobs: bool = True, seed: int = 0) -> np.ndarray:
    """score_prompt for each prompt; once the endpoint has shown that it gives no
    log-probabilities it is not asked for them again."""
    url = base_url.rstrip("/") + "/completions"
    rows = []
    for p in prompts:
        probs, _, gave = _score(url, model, p, n_options, samples, top_logprobs, api_key, timeout,
                                use_logprobs, seed)
        use_logprobs = use_logprobs and gave
        rows.append(probs)
    return np.stack(rows)
