"""The latent outcome model: one place for the coefficients, used both to draw outcomes and
to compute the oracle (so the two cannot drift apart).

Every outcome's logit (or log length of stay) is `visible(x) + hidden`: `x` are facts the note
asserts for this patient now (age, problems, code status, printed vitals and labs through
early-warning points, functional status, planned procedures, documentation of medical
necessity, hospital-course events, discharge labs, follow-up, service, payer, site, period),
and `hidden` is Gaussian: a persistent patient effect (the same across a patient's stays, never
documented) plus per-stay noise. Given a note, the oracle's probability is the exact Gaussian
expectation of the sigmoid (Gauss-Hermite quadrature). It integrates the patient effect over
the population; a model that has seen the same patient's earlier stays can know more, which
is why seen and unseen patients differ.

Facts a note mentions only as negated, uncertain, historical or family history never enter.
The intercepts are calibrated by simulation to the study's ratios (see bench/synth_validity.py).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, ndtr

from lang1core.synth.catalog import DEPT_KEYS, DISPOSITIONS, PAYERS

# --- sites and periods ---------------------------------------------------------------------------
# Practice differs by site (per-site logit / log-days shifts); repeated for more sites.
SITE_MORT = np.array([0.0, 0.15, -0.1, 0.25])
SITE_LOS = np.array([0.0, 0.1, -0.08, 0.16])
SITE_READMIT = np.array([0.0, 0.15, -0.12, 0.3])
SITE_DENIAL = np.array([0.0, -0.25, 0.3, 0.15])


def site_shift(table: np.ndarray, site: np.ndarray) -> np.ndarray:
    return table[np.asarray(site) % len(table)]


def dept_vector(values: dict[str, float], default: float = 0.0) -> np.ndarray:
    return np.array([values.get(k, default) for k in DEPT_KEYS])


ACUITY_DEPT = dept_vector({"cardiology": 0.1, "surgery": -0.2, "orthopedics": -0.3,
                           "obstetrics": -1.0, "pediatrics": -0.6, "oncology": 0.3,
                           "psychiatry": -0.5, "rehabilitation": -0.8, "palliative_care": 0.8})


def acuity_prior_mean(dept: np.ndarray, emergency: np.ndarray, covid: np.ndarray) -> np.ndarray:
    return ACUITY_DEPT[dept] + 0.3 * emergency + 0.4 * covid


# --- code status: DNR is visible and depends only on visible facts ------------------------------
def dnr_logit(age, burden, palliative, mets):
    return -6.0 + 0.07 * np.maximum(age - 50, 0) + 0.25 * burden + 2.5 * palliative + 1.2 * mets


# --- mortality (H&P) ----------------------------------------------------------------------------
MORT_DEPT = dept_vector({"palliative_care": 2.2, "oncology": 0.5, "obstetrics": -2.5, "pediatrics": -1.5,
                         "psychiatry": -2.5, "rehabilitation": -1.2, "surgery": -0.4, "orthopedics": -0.6,
                         "dialysis": -0.2})
MORT_C, MORT_PATIENT, MORT_SIGMA = -8.71, 0.3, 0.45


def mortality_visible(age, burden, dnr, dept, covid, points, site, y2024):
    return (MORT_C + 0.05 * np.maximum(age - 45, 0) + 0.04 * np.maximum(age - 75, 0) + 0.5 * points
            + 0.2 * burden + 1.3 * dnr + MORT_DEPT[dept] + 0.7 * covid + 0.25 * y2024 + site_shift(SITE_MORT, site))


# --- length of stay (H&P): log(days) ------------------------------------------------------------
LOS_DEPT = dept_vector({"rehabilitation": 1.0, "psychiatry": 0.6, "obstetrics": -0.45, "pediatrics": -0.4,
                        "orthopedics": 0.1, "oncology": 0.3, "palliative_care": 0.2, "cardiology": -0.2,
                        "dialysis": -0.3})
LOS_C, LOS_PATIENT, LOS_SIGMA = 0.68, 0.12, 0.42
# Days the oracle's LOS distribution covers one by one; the last entry is "more than this".
LOS_MAX_DAYS = 30


def los_visible(age, burden, dept, elective, covid, y2024, points, function, lives_alone, procedure, site):
    return (LOS_C + 0.006 * (age - 50) + 0.09 * points + 0.05 * burden + 0.3 * function + 0.22 * lives_alone
            + 0.5 * procedure + LOS_DEPT[dept] - 0.15 * elective + 0.3 * covid - 0.12 * y2024
            + site_shift(SITE_LOS, site))


def los_day_probs(mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """P(floor(exp(mu + sd Z)) = d) for d = 0..LOS_MAX_DAYS-1, then P(>= LOS_MAX_DAYS); (n, 31)."""
    cuts = np.log(np.arange(1, LOS_MAX_DAYS + 1, dtype=float))
    cdf = ndtr((cuts[None, :] - mu[:, None]) / sd[:, None])
    cdf = np.concatenate([np.zeros((len(mu), 1)), cdf, np.ones((len(mu), 1))], axis=1)
    return np.diff(cdf, axis=1)


# --- denial (H&P) -------------------------------------------------------------------------------
DENIAL_PAYER = np.array([{"medicare": 0.0, "medicaid": 0.35, "commercial": 0.6, "self_pay": 0.0,
                          "other": 0.3}[p] for p in PAYERS])
DENIAL_C, DENIAL_SIGMA = -1.56, 0.45


def denial_visible(necessity, payer, elective, no_auth, observation_dx, points, year, site):
    return (DENIAL_C - 0.85 * necessity + DENIAL_PAYER[payer] - 0.4 * elective + 1.3 * no_auth
            + 1.0 * observation_dx * (points <= 1) - 0.12 * np.minimum(points, 6)
            + 0.15 * (year == 2024) + 0.15 * (year >= 2014) + site_shift(SITE_DENIAL, site))


# --- disposition (discharge summary; visible facts only, so readmission stays exact) ------------
def disposition_logits(age, burden, los_days, dnr, dept, substance, housing, function):
    """Unnormalised logits over DISPOSITIONS[:-1] (everything but expired); (n, 6)."""
    d = np.asarray(dept)
    is_ = lambda k: (d == DEPT_KEYS.index(k)).astype(float)
    old = np.maximum(age - 65, 0)
    los = np.minimum(los_days, 10)
    child = age < 18
    out = np.stack([
        np.zeros_like(age, dtype=float),                                                     # home
        -1.8 + 0.04 * old + 0.12 * burden + 0.5 * function,                                  # home_health
        -3.6 + 0.07 * old + 0.2 * burden + 0.15 * los + 1.2 * is_("orthopedics") + 1.0 * function,  # snf
        -3.8 + 1.6 * (is_("neurology") + is_("orthopedics")) + 0.05 * old,                   # rehab
        -6.0 + 2.5 * dnr + 3.0 * is_("palliative_care") + 0.3 * burden,                      # hospice
        -4.4 + 1.8 * substance + 0.8 * housing,                                              # ama
    ], axis=1)
    out[child, 2:] = -np.inf
    return out


# --- readmission (discharge summary) ------------------------------------------------------------
READMIT_DEPT = dept_vector({"obstetrics": -1.8, "surgery": -0.3, "orthopedics": -0.6, "pediatrics": -0.8,
                            "oncology": 0.4, "psychiatry": 0.1})
READMIT_DISP = np.array([{"home": 0.0, "home_health": 0.2, "snf": 0.35, "rehab": 0.1, "hospice": -1.8,
                          "ama": 1.1, "expired": 0.0}[d] for d in DISPOSITIONS])
READMIT_C, READMIT_PATIENT, READMIT_SIGMA = -3.95, 0.6, 0.25


def readmission_visible(age, burden, housing, substance, lives_alone, los_days, disposition, dept, events,
                        abnormal_labs, high_risk_meds, no_followup, site, y2024):
    return (READMIT_C + 0.24 * burden + 0.7 * housing + 0.5 * substance + 0.35 * lives_alone
            + 0.3 * np.log1p(los_days) + 1.2 * READMIT_DISP[disposition] + READMIT_DEPT[dept]
            + 0.014 * np.maximum(age - 50, 0) + 0.65 * np.minimum(events, 3) + 0.65 * abnormal_labs
            + 0.5 * high_risk_meds + 0.85 * no_followup + 0.25 * y2024 + site_shift(SITE_READMIT, site))


# 2024 brings changes no note records (new care-transition programmes, staffing, payer rules):
# the undocumented part of each outcome grows, so every reader, the oracle included, does
# worse on the 2024 test than in-period.
EXTRA_SIGMA_2024 = {"mortality": 0.5, "los": 0.1, "denial": 0.5, "readmission": 0.5}


def noise_sd(task: str, sigma: float, y2024: np.ndarray) -> np.ndarray:
    """Per-stay SD of the outcome's noise (larger in 2024)."""
    return sigma + EXTRA_SIGMA_2024[task] * np.asarray(y2024, dtype=float)


def hidden_sd(task: str, patient: float, sigma: float, y2024: np.ndarray) -> np.ndarray:
    """SD of the undocumented part of a logit: patient effect (N(0, 1) scaled) plus noise."""
    return np.hypot(patient, noise_sd(task, sigma, y2024))


# --- expectation of a sigmoid under Gaussian noise ------------------------------------------------
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(40)
_GH_W = _GH_W / _GH_W.sum()


def expected_sigmoid(mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """E[sigmoid(mu + sd * Z)], Z ~ N(0, 1); exact to ~1e-10 for sd < 3 (40-node quadrature)."""
    return expit(mu[:, None] + sd[:, None] * _GH_X[None, :]) @ _GH_W
