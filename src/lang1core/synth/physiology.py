"""Vitals and labs: what the H&P and the discharge summary print, and the early-warning points
that outcomes depend on.

Each measurement is a deterministic function of latent acuity plus its own noise, so the
values are correlated but each is only a noisy view of how sick the patient is. Outcomes do
not depend on acuity itself but on the printed values through threshold points (an early
warning score in the style of NEWS2): risk is flat across the normal range and climbs at the
extremes, so a reader must understand the number, not just see that a vital sign was
mentioned. The oracle reads the same printed values, so it stays exact.
"""

from __future__ import annotations

import numpy as np

from lang1core.synth.catalog import COND_INDEX

# (name, centre, per-SD change, log scale?, printed decimals, clip)
_VITALS = (
    ("hr", 84.0, 11.0, False, 0, (35, 185)),
    ("sbp", 128.0, -13.0, False, 0, (58, 225)),
    ("rr", 17.0, 2.6, False, 0, (7, 44)),
    ("temp_c", 36.95, 0.55, False, 1, (34.0, 41.5)),
    ("wbc", np.log(8.2), 0.30, True, 1, (0.4, 60.0)),
    ("lactate", np.log(1.15), 0.42, True, 1, (0.3, 16.0)),
    ("creat", np.log(0.95), 0.28, True, 1, (0.3, 12.0)),
)
NAMES = tuple(v[0] for v in _VITALS) + ("spo2", "sodium", "hgb")


def _round(name: str, value: np.ndarray) -> np.ndarray:
    digits = {v[0]: v[4] for v in _VITALS}.get(name, 0)
    return np.round(value, digits)


def draw(rng: np.random.Generator, acuity: np.ndarray, present: np.ndarray, covid: np.ndarray) -> dict[str, np.ndarray]:
    """Printed admission values for stays of the given acuity; (n,) float arrays."""
    n = len(acuity)
    out: dict[str, np.ndarray] = {}
    for name, centre, slope, log, _, (lo, hi) in _VITALS:
        x = acuity + rng.standard_normal(n)
        v = centre + slope * x
        v = np.exp(v) if log else v
        out[name] = _round(name, v).clip(lo, hi)
    renal = present[:, COND_INDEX["renal"]]
    out["creat"] = np.round(out["creat"] + 2.6 * renal, 1)
    cpd = present[:, COND_INDEX["cpd"]]
    x = acuity + rng.standard_normal(n)
    out["spo2"] = np.round(97.5 - 2.4 * np.logaddexp(0, 1.3 * (x - 0.6)) - 2.0 * cpd - 3.0 * covid).clip(70, 100)
    out["sodium"] = np.round(139 + 3.2 * rng.standard_normal(n) - 1.2 * np.maximum(acuity, 0)).clip(112, 162)
    out["hgb"] = np.round(13.2 + 1.6 * rng.standard_normal(n) - 0.5 * np.maximum(acuity, 0) - 1.5 * renal, 1).clip(4.5, 19)
    return out


def altered_mentation(rng: np.random.Generator, acuity: np.ndarray, present: np.ndarray) -> np.ndarray:
    """New confusion at admission: rises with acuity, more likely with dementia."""
    dementia = present[:, COND_INDEX["dementia"]]
    return rng.random(len(acuity)) < 1 / (1 + np.exp(-(-3.6 + 1.3 * acuity + 1.4 * dementia)))


def _bands(x: np.ndarray, cuts: tuple[float, ...], points: tuple[int, ...]) -> np.ndarray:
    """points[i] for x in (cuts[i-1], cuts[i]]; len(points) == len(cuts) + 1."""
    return np.asarray(points)[np.searchsorted(np.asarray(cuts), x, side="left")]


def warning_points(v: dict[str, np.ndarray], ams: np.ndarray) -> np.ndarray:
    """Early-warning points of printed values (0 in the normal range, up to 3 per sign)."""
    p = (_bands(v["rr"], (8, 11, 20, 24), (3, 1, 0, 2, 3))
         + _bands(v["spo2"], (91, 93, 95), (3, 2, 1, 0))
         + _bands(v["sbp"], (90, 100, 110, 219), (3, 2, 1, 0, 3))
         + _bands(v["hr"], (40, 50, 90, 110, 130), (3, 1, 0, 1, 2, 3))
         + _bands(v["temp_c"], (35.0, 36.0, 38.0, 39.0), (3, 1, 0, 1, 2))
         + _bands(v["lactate"], (1.9, 3.9), (0, 1, 3))
         + _bands(v["wbc"], (3.9, 15.0), (1, 0, 1))
         + _bands(v["sodium"], (124, 129, 149), (2, 1, 0, 2))
         + 3 * ams)
    return p.astype(np.int64)


def discharge_labs(rng: np.random.Generator, admission: dict[str, np.ndarray], los_days: np.ndarray) -> dict[str, np.ndarray]:
    """Last values before discharge: admission values regress toward normal with time."""
    n = len(los_days)
    w = np.exp(-0.35 * np.minimum(los_days, 10))
    return {
        "hgb": np.round(admission["hgb"] * w + 12.6 * (1 - w) - 0.6 * np.abs(rng.standard_normal(n)), 1).clip(4.5, 19),
        "sodium": np.round(admission["sodium"] * w + 138.5 * (1 - w) + 2.2 * rng.standard_normal(n)).clip(115, 160),
        "creat": np.round(admission["creat"] * (0.6 + 0.4 * w) * np.exp(0.15 * rng.standard_normal(n)), 1).clip(0.3, 12),
    }
