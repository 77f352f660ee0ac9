"""Canary exposure (Carlini et al., 2019): where the true secret ranks among candidates.

exposure = log2(|candidates|) - log2(rank), rank 1 = most likely. A model that never saw the
canary ranks it uniformly, so its expected exposure is about 1.44 bits (1/ln 2); the most a
candidate set of size n can show is log2(n).
"""

from __future__ import annotations

import math

import numpy as np

from lang1core.audit import lm
from lang1core.audit.canaries import Canary, candidate_secrets


def exposure(logprobs: np.ndarray) -> float:
    """Exposure of candidate 0 (the true secret) given every candidate's log-likelihood;
    ties count against the secret (rank = candidates at least as likely)."""
    rank = int((logprobs >= logprobs[0]).sum())
    return math.log2(len(logprobs)) - math.log2(rank)


def canary_exposures(model, tok, canaries: list[Canary], n_candidates: int, seed: int,
                     batch_size: int = 256) -> list[dict]:
    """One row per canary: id, repetitions, exposure (numbers only: no secret, no text)."""
    bos = [tok.bos_id] if tok.bos_id >= 0 else []
    rows = []
    for c in canaries:
        prefix = bos + tok.encode(c.prefix)
        conts = [tok.encode(s) for s in candidate_secrets(c, n_candidates, seed)]
        lp = lm.continuation_logprobs(model, prefix, conts, batch_size=batch_size)
        rows.append({"canary": c.canary_id, "repetitions": c.repetitions, "exposure": exposure(lp)})
    return rows


def by_repetitions(rows: list[dict]) -> list[dict]:
    """Mean, min and max exposure per repetition count, in increasing count."""
    out = []
    for r in sorted({row["repetitions"] for row in rows}):
        e = np.array([row["exposure"] for row in rows if row["repetitions"] == r])
        out.append({"repetitions": r, "n_canaries": int(e.size), "mean_exposure": float(e.mean()),
                    "min_exposure": float(e.min()), "max_exposure": float(e.max())})
    return out
