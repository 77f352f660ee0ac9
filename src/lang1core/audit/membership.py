"""Membership inference from per-note loss (Yeom et al., 2018), and calibrated by a reference
model (Carlini et al., 2022, offline: the reference never saw the notes).

Score = -loss (lower loss: more likely a training note), or -(loss - reference loss) so that
notes every model finds easy do not pass for memorised. AUROC 0.5: membership cannot be told;
1.0: every training note is told from every held-out one.
"""

from __future__ import annotations

import numpy as np

from lang1core.evaluate.auroc import bootstrap_binary


def mia_auroc(train_scores: np.ndarray, held_scores: np.ndarray, n_bootstrap: int, seed: int,
              level: float = 0.95) -> dict:
    """AUROC of telling training from held-out notes by `score` (higher: member), with a
    percentile bootstrap interval."""
    scores = np.concatenate([train_scores, held_scores])
    labels = np.concatenate([np.ones(len(train_scores)), np.zeros(len(held_scores))]).astype(int)
    r = bootstrap_binary(scores, labels, n_bootstrap, np.random.default_rng(seed), level=level)
    return {"auroc": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high, "n_train": len(train_scores),
            "n_held_out": len(held_scores), "n_bootstrap": n_bootstrap, "ci_level": level}


def membership(train_loss: np.ndarray, held_loss: np.ndarray, ref_train_loss: np.ndarray | None,
               ref_held_loss: np.ndarray | None, n_bootstrap: int, seed: int) -> dict:
    out = {"loss": mia_auroc(-train_loss, -held_loss, n_bootstrap, seed),
           "mean_loss": {"train": float(np.mean(train_loss)), "held_out": float(np.mean(held_loss))}}
    if ref_train_loss is not None and ref_held_loss is not None:
        out["calibrated"] = mia_auroc(-(train_loss - ref_train_loss), -(held_loss - ref_held_loss),
                                      n_bootstrap, seed + 1)
    else:
        out["calibrated"] = None
    return out
