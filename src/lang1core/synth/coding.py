"""Diagnosis codes of each encounter, and the CCI distribution an H&P implies.

Position 1 is the principal diagnosis (always coded). Each chronic condition the patient has
is coded with probability `coding_rate` (coders miss some; in 2024 coding is more complete,
one of the shifts the study reports). The H&P lists every present condition, so given the
note the CCI is a sum of independent coded-or-not contributions: its distribution is exact
by convolution (`cci_distribution`), which the oracle uses.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lang1core.synth.catalog import CONDITIONS, N_COND
from lang1core.synth.encounters import CHARLSON_W, DX_CAT, DX_CODE, HIERARCHY

CODE_COUNTS = np.array([len(c.codes) for c in CONDITIONS])
CODE_TABLE = np.array([code for c in CONDITIONS for code in c.codes])
CODE_OFFSET = np.r_[0, np.cumsum(CODE_COUNTS)[:-1]]
MAX_CCI = 48


def coding_rate(year: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """P(a present chronic condition is coded) per encounter."""
    inpatient = np.where(year >= 2024, 0.9, 0.82)
    return np.where(cls == 0, inpatient, 0.35)


def condition_code_probs(present: np.ndarray, dx: np.ndarray, year: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """(n, N_COND) P(category k is coded): 1 for the principal's category, else rate * present."""
    p = present * coding_rate(year, cls)[:, None]
    cat = DX_CAT[dx]
    rows = np.nonzero(cat >= 0)[0]
    p[rows, cat[rows]] = 1.0
    return p


def diagnoses_frame(rng: np.random.Generator, enc: pl.DataFrame, present: np.ndarray) -> pl.DataFrame:
    """Rows (encounter_id, icd10_code, position)."""
    n = enc.height
    dx = enc["dx"].to_numpy()
    year = enc["year"].to_numpy()
    cls = enc["cls_i"].to_numpy()
    pat = enc["pat"].to_numpy()
    coded = present & (rng.random(present.shape) < coding_rate(year, cls)[:, None])
    # Don't repeat the principal's category as a secondary code.
    cat = DX_CAT[dx]
    rows = np.nonzero(cat >= 0)[0]
    coded[rows, cat[rows]] = False
    r, k = np.nonzero(coded)
    # A patient keeps the same code for a condition across encounters.
    code = CODE_TABLE[CODE_OFFSET[k] + (pat[r] * 7 + k) % CODE_COUNTS[k]]
    covid = enc["covid"].to_numpy()
    extra_r = np.nonzero(covid)[0]
    enc_rows = np.concatenate([np.arange(n), extra_r, r])
    codes = np.concatenate([DX_CODE[dx], np.full(len(extra_r), "J12.82"), code])
    order = np.argsort(enc_rows, kind="stable")
    enc_rows, codes = enc_rows[order], codes[order]
    start = np.r_[0, np.nonzero(np.diff(enc_rows))[0] + 1]
    position = np.arange(len(enc_rows)) - np.repeat(start, np.diff(np.r_[start, len(enc_rows)])) + 1
    return pl.DataFrame({
        "encounter_id": enc["encounter_id"].to_numpy()[enc_rows],
        "icd10_code": codes,
        "position": position.astype(np.int64),
    })


def cci_distribution(p: np.ndarray) -> np.ndarray:
    """(n, MAX_CCI+1) distribution of the CCI given per-category coding probabilities (n, N_COND).

    Hierarchical pairs score their highest coded member; the rest add independently.
    """
    n = len(p)
    dist = np.zeros((n, MAX_CCI + 1))
    dist[:, 0] = 1.0
    in_pair = set()
    groups: list[list[tuple[np.ndarray, int]]] = []  # list of outcome (prob, weight) lists
    for parent, child in HIERARCHY:
        in_pair |= {parent, child}
        pc, pp = p[:, child], p[:, parent]
        groups.append([(pc, int(CHARLSON_W[child])), ((1 - pc) * pp, int(CHARLSON_W[parent]))])
    for k in range(N_COND):
        if k not in in_pair and CHARLSON_W[k] > 0:
            groups.append([(p[:, k], int(CHARLSON_W[k]))])
    for outcomes in groups:
        p_none = 1 - sum(o[0] for o in outcomes)
        new = dist * p_none[:, None]
        for prob, w in outcomes:
            new[:, w:] += dist[:, :-w] * prob[:, None]
        dist = new
    return dist


def cci_bin_probs(dist: np.ndarray) -> np.ndarray:
    """(n, 5) probabilities of the study's bins 0, 1-2, 3-4, 5-7, >7."""
    return np.stack([dist[:, 0], dist[:, 1:3].sum(1), dist[:, 3:5].sum(1), dist[:, 5:8].sum(1),
                     dist[:, 8:].sum(1)], axis=1)
