"""Models behind an OpenAI-compatible completions endpoint (`POST {base_url}/completions`).

With log-probabilities offered (`logprobs: k` returns the top-k next tokens), an option's
score is the probability of its letter as the first answer token (" A" and "A" pooled),
renormalised over the options. Otherwise the study's approximation: `samples` completions
at temperature 1, the first letter of each counted per option (uniform when none match).

`serve(model_dir)` runs such an endpoint for one of our models (stdlib HTTP server), so the
client is tested against a real server, and a site can put its model behind the same API.
"""

from __future__ import annotations

import json
import logging
import math
import urllib.request
from collections.abc import Sequence

import numpy as np

from lang1core.remede.prompts import LETTERS

log = logging.getLogger(__name__)


def _post(url: str, body: dict, api_key: str | None, timeout: float) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    if api_key:
        req.add_header("Authorization", f"Bearer {api_key}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def letter_of(token: str, n_options: int) -> int | None:
    t = token.strip()
    return LETTERS.index(t) if len(t) == 1 and t in LETTERS[:n_options] else None


def score_prompt(base_url: str, model: str, prompt: str, n_options: int, *, samples: int = 10,
                 top_logprobs: int = 20, api_key: str | None = None, timeout: float = 60,
                 use_logprobs: bool = True) -> tuple[np.ndarray, str]:
    """(probabilities [K], method 'logprobs' | 'sampling') for one prompt."""
    url = base_url.rstrip("/") + "/completions"
    if use_logprobs:
        try:
            out = _post(url, {"model": model, "prompt": prompt, "max_tokens": 1,
                              "temperature": 0, "logprobs": top_logprobs}, api_key, timeout)
            top = ((out["choices"][0].get("logprobs") or {}).get("top_logprobs") or [None])[0]
        except (KeyError, IndexError, urllib.error.HTTPError) as e:
            log.warning("endpoint %s gave no log-probabilities (%s); sampling instead", url, e)
            top = None
        if top:
            mass = np.zeros(n_options)
            for token, lp in top.items():
                k = letter_of(token, n_options)
                if k is not None:
                    mass[k] += math.exp(lp)
            if mass.sum() > 0:
                return mass / mass.sum(), "logprobs"
    out = _post(url, {"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 1.0,
                      "n": samples}, api_key, timeout)
    counts = np.zeros(n_options)
    for choice in out["choices"]:
        k = letter_of(choice.get("text", ""), n_options)
        if k is not None:
            counts[k] += 1
    if counts.sum() == 0:
        return np.full(n_options, 1.0 / n_options), "sampling"
    return counts / counts.sum(), "sampling"


def score_prompts(base_url: str, model: str, prompts: Sequence[str], n_options: int,
                  **kw) -> np.ndarray:
    return np.stack([score_prompt(base_url, model, p, n_options, **kw)[0] for p in prompts])


def make_server(model_dir, host: str = "127.0.0.1", port: int = 0, device: str = "cpu",
                logprobs: bool = True, seed: int = 0):
    """An OpenAI-compatible /v1/completions server for one of our model directories
    (max_tokens 1: the next token's top log-probabilities, or `n` samples). Returns the
    ThreadingHTTPServer; call serve_forever() (port 0 picks a free port)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import torch

    from lang1core.finetune.models import load_base

    model, tok, _ = load_base(model_dir, device=device)
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    lock = __import__("threading").Lock()

    def complete(body: dict) -> dict:
        ids = ([tok.bos_id] if tok.bos_id >= 0 else []) + tok.encode(body["prompt"])
        with torch.no_grad(), lock:
            logits = model(torch.tensor([ids], device=next(model.parameters()).device))[0, -1]
            logp = torch.log_softmax(logits.float().cpu(), -1)
            temp = float(body.get("temperature", 1.0))
            n = int(body.get("n", 1))
            if temp <= 0:
                picks = [int(logp.argmax())] * n
            else:
                picks = torch.multinomial(torch.softmax(logp / temp, -1), n, replacement=True,
                                          generator=gen).tolist()
        choices = []
        for i, t in enumerate(picks):
            c = {"index": i, "text": " " + tok.decode([t]) if tok.sp.id_to_piece(t).startswith("▁")
                 else tok.decode([t]), "finish_reason": "length", "logprobs": None}
            if logprobs and body.get("logprobs"):
                k = int(body["logprobs"])
                vals, idx = logp.topk(k)
                top = {}
                for v, j in zip(vals.tolist(), idx.tolist()):
                    piece = tok.sp.id_to_piece(j).replace("▁", " ")
                    top[piece] = max(top.get(piece, -math.inf), v)
                c["logprobs"] = {"tokens": [c["text"]], "token_logprobs": [float(logp[t])],
                                 "top_logprobs": [top]}
            choices.append(c)
        return {"object": "text_completion", "model": body.get("model", ""), "choices": choices}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            if not self.path.rstrip("/").endswith("/completions"):
                self.send_error(404, f"unknown path {self.path}")
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            data = json.dumps(complete(body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):
            log.debug(fmt, *args)

    return ThreadingHTTPServer((host, port), Handler)
