"""Training-data extraction by prefix prompting (Carlini et al., 2021).

Each note's first `prefix` tokens prompt the model; its greedy continuation of `suffix` tokens
is compared with the note's own next tokens. Exact: every token equal. Near-verbatim: token
sequence similarity (difflib's ratio, 2 x matches / total) at least `near`. Template text
makes held-out notes continue verbatim too, so what counts is training minus held-out.
"""

from __future__ import annotations

from difflib import SequenceMatcher

import numpy as np

from lang1core.audit import lm


def similarity(a: list[int], b: list[int]) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def continuation_matches(model, token_lists: list[list[int]], prefix: int, suffix: int,
                         batch_size: int = 32) -> tuple[np.ndarray, int]:
    """(similarity of each usable note's greedy continuation to its own, notes left out
    because they hold fewer than prefix + suffix tokens)."""
    usable = [t for t in token_lists if len(t) >= prefix + suffix]
    if not usable:
        return np.zeros(0), len(token_lists)
    gen = lm.generate(model, [t[:prefix] for t in usable], suffix, batch_size=batch_size)
    sims = np.array([similarity(g, t[prefix:prefix + suffix]) for g, t in zip(gen, usable)])
    return sims, len(token_lists) - len(usable)


def rates(sims: np.ndarray, near: float) -> dict:
    n = int(sims.size)
    return {"n": n, "exact_rate": float((sims >= 1.0).mean()) if n else None,
            "near_verbatim_rate": float((sims >= near).mean()) if n else None,
            "mean_similarity": float(sims.mean()) if n else None}


def extraction(model, train_tokens: list[list[int]], held_tokens: list[list[int]], *, prefix: int,
               suffix: int, near: float, batch_size: int = 32) -> dict:
    """Rates on training and held-out notes and their differences (training minus held-out)."""
    out = {"prefix_tokens": prefix, "suffix_tokens": suffix, "near_verbatim_similarity": near}
    for name, toks in (("train", train_tokens), ("held_out", held_tokens)):
        sims, short = continuation_matches(model, toks, prefix, suffix, batch_size)
        out[name] = {**rates(sims, near), "too_short": short}
    both = out["train"]["n"] and out["held_out"]["n"]
    for key in ("exact_rate", "near_verbatim_rate"):
        out[f"{key}_excess"] = (out["train"][key] - out["held_out"][key]) if both else None
    return out
