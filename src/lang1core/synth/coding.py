"""Diagnosis codes of each encounter, and the CCI distribution an H&P implies.

Position 1 is the principal diagnosis (always coded). Each chronic condition the patient has
is coded with probability `coding_rate` (coders miss some, more at some sites; in 2024 coding
is more complete, one of the shifts the study reports). Coders also read the rest of the chart (outside
records, earlier problem lists), so an inpatient stay now and then carries a Charlson code
for a condition its H&P does not list (`CHART_ONLY_RATE`, drawn independently of everything
the note shows). Without it the H&P would pin the index down almost exactly (oracle AUROC
0.99); with it the oracle reaches ~0.97. Given the note, the CCI is a sum of independent coded-or-not contributions: its
distribution is exact by convolution (`cci_distribution`), which the oracle uses.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lang1core.synth.catalog import CONDITIONS, N_COND
from lang1core.synth.encounters import CHARLSON_W, DX_CAT, DX_CODE, HIERARCHY
from lang1core.synth.latent import site_shift

CODE_COUNTS = np.array([len(c.codes) for c in CONDITIONS])
CODE_TABLE = np.array([code for c in CONDITIONS for code in c.codes])
CODE_OFFSET = np.r_[0, np.cumsum(CODE_COUNTS)[:-1]]
MAX_CCI = 48
# P(a condition the H&P raises only as possible is confirmed and coded).
POSSIBLE_CODED = 0.3
# P(an inpatient stay is coded with a Charlson category its H&P does not list), by the
# category's weight: rarer for the heavy ones, so the >7 bin stays near the study's 0.2%.
CHART_ONLY_BY_WEIGHT = {1: 0.006, 2: 0.0025, 3: 0.0006, 6: 0.0}
# From 2024 coders also see outside records through health-information exchange.
CHART_ONLY_2024 = 2.0
CHART_ONLY_RATE = np.array([CHART_ONLY_BY_WEIGHT.get(c.weight, 0.0) for c in CONDITIONS])
# Coding completeness is a hospital's practice (coder staffing, query programmes): per-site
# shifts of the inpatient rate, so a model trained elsewhere meets labels that follow the note
# less closely.
SITE_CODING = np.array([0.0, 0.04, -0.03, -0.1])


def coding_rate(year: np.ndarray, cls: np.ndarray, site: np.ndarray) -> np.ndarray:
    """P(a present chronic condition is coded) per encounter."""
    inpatient = np.where(year >= 2024, 0.8, 0.72) + site_shift(SITE_CODING, site)
    return np.where(cls == 0, inpatient, 0.35)


def condition_code_probs(present: np.ndarray, possible: np.ndarray, dx: np.ndarray, year: np.ndarray,
                         cls: np.ndarray, site: np.ndarray) -> np.ndarray:
    """(n, N_COND) P(category k is coded): 1 for the principal's category, else rate * present,
    POSSIBLE_CODED where the note raises it as possible, and the chart-only rate elsewhere
    (inpatient stays)."""
    p = np.where(present, coding_rate(year, cls, site)[:, None],
                 np.where(possible, POSSIBLE_CODED * (cls == 0)[:, None], _chart_only(cls, year)))
    cat = DX_CAT[dx]
    rows = np.nonzero(cat >= 0)[0]
    p[rows, cat[rows]] = 1.0
    return p


def diagnoses_frame(rng: np.random.Generator, enc: pl.DataFrame, present: np.ndarray,
                    possible: np.ndarray) -> pl.DataFrame:
    """Rows (encounter_id, icd10_code, position)."""
    n = enc.height
    dx = enc["dx"].to_numpy()
    year = enc["year"].to_numpy()
    cls = enc["cls_i"].to_numpy()
    pat = enc["pat"].to_numpy()
    site = enc["site_i"].to_numpy()
    coded = rng.random(present.shape) < condition_code_probs(present, possible, dx, year, cls, site)
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


def _chart_only(cls: np.ndarray, year: np.ndarray) -> np.ndarray:
    """(n, N_COND) chart-only coding rates (inpatient stays only)."""
    scale = (cls == 0) * np.where(year >= 2024, CHART_ONLY_2024, 1.0)
    return scale[:, None] * CHART_ONLY_RATE[None, :]


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
