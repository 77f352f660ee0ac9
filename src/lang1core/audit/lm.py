"""The language-model operations the audit needs, batched, on our Llama (`lang1core.model`).

Token lists are plain Python lists of ids; every function runs under no_grad on the model's
device and returns numpy arrays or lists.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from lang1core.finetune.scoring import device_of, right_pad


@torch.no_grad()
def mean_losses(model, seqs: Sequence[Sequence[int]], batch_size: int = 16, progress=None) -> np.ndarray:
    """Mean next-token cross-entropy (nats) of each sequence (at least 2 tokens each)."""
    if any(len(s) < 2 for s in seqs):
        raise ValueError("every sequence needs at least 2 tokens to have a loss")
    dev, out = device_of(model), []
    for i in range(0, len(seqs), batch_size):
        ids, lens = right_pad(seqs[i:i + batch_size], 0, dev)
        logp = F.log_softmax(model(ids).float(), -1)[:, :-1]
        tok = logp.gather(-1, ids[:, 1:, None])[..., 0]
        mask = torch.arange(ids.shape[1] - 1, device=dev)[None] < (lens - 1)[:, None]
        out.append((-(tok * mask).sum(1) / mask.sum(1)).cpu().numpy())
        if progress is not None:
            progress(len(lens))
    return np.concatenate(out) if out else np.zeros(0)


@torch.no_grad()
def continuation_logprobs(model, prefix: Sequence[int], continuations: Sequence[Sequence[int]],
                          batch_size: int = 256) -> np.ndarray:
    """Sum of log p(continuation | prefix) for each continuation; the prefix runs once and
    every continuation continues from its key/value cache."""
    dev = device_of(model)
    logits, cache = model(torch.tensor([list(prefix)], device=dev), use_cache=True)
    first = F.log_softmax(logits[0, -1].float(), -1)
    out = []
    for i in range(0, len(continuations), batch_size):
        conts = continuations[i:i + batch_size]
        ids, lens = right_pad(conts, 0, dev)
        rows = torch.zeros(len(conts), dtype=torch.long, device=dev)
        more, _ = model(ids, past=cache.select(rows), lengths=lens)
        logp = F.log_softmax(more.float(), -1)[:, :-1].gather(-1, ids[:, 1:, None])[..., 0]
        mask = torch.arange(ids.shape[1] - 1, device=dev)[None] < (lens - 1)[:, None]
        out.append((first[ids[:, 0]] + (logp * mask).sum(1)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


@torch.no_grad()
def generate(model, prompts: Sequence[Sequence[int]], n_new: int, *, temperature: float = 0.0,
             top_k: int | None = None, generator: torch.Generator | None = None,
             batch_size: int = 32) -> list[list[int]]:
    """n_new tokens after each prompt (prompts of one length per call): greedy when
    temperature is 0, else sampled (optionally from the top_k tokens) with `generator`."""
    if len({len(p) for p in prompts}) > 1:
        raise ValueError("generate() takes prompts of one length (cut them to the same number of tokens)")
    dev, out = device_of(model), []
    for i in range(0, len(prompts), batch_size):
        ids = torch.tensor([list(p) for p in prompts[i:i + batch_size]], dtype=torch.long, device=dev)
        logits, cache = model(ids, use_cache=True)
        step, new = logits[:, -1].float(), []
        for j in range(n_new):
            if temperature <= 0:
                nxt = step.argmax(-1)
            else:
                step = step / temperature
                if top_k:
                    kth = step.topk(min(top_k, step.shape[-1]), -1).values[:, -1:]
                    step = step.masked_fill(step < kth, float("-inf"))
                probs = torch.softmax(step, -1).cpu()
                nxt = torch.multinomial(probs, 1, generator=generator)[:, 0].to(dev)
            new.append(nxt)
            if j + 1 < n_new:
                logits, cache = model(nxt[:, None], past=cache)
                step = logits[:, -1].float()
        out.extend(torch.stack(new, 1).tolist())
    return out
