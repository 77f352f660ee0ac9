"""What happens during a stay and what the admitting team documents about it: planned
procedures, the elements of medical necessity, hospital-course events and follow-up.

Each is a fact the latent model reads only when the note asserts it (see latent.py); the
notes also mention the same concepts negated ("no falls this admission") or planned-but-not-
done, which a reader must tell apart.
"""

from __future__ import annotations

import numpy as np

from lang1core.synth.latent import site_shift

# Hospital-course events (lexicon keys "event:<id>") with their base probability for a
# three-day stay of moderate severity.
EVENTS = (
    ("aki", 0.05), ("delirium", 0.035), ("fall", 0.015), ("c_diff", 0.01), ("dvt", 0.008), ("pe", 0.005),
    ("gi_bleed", 0.01), ("hypotension_episode", 0.03), ("rapid_response", 0.02), ("icu_transfer", 0.025),
    ("sepsis", 0.015), ("pneumonia_hospital", 0.01), ("uti_catheter", 0.01), ("hyperkalemia", 0.02),
    ("hypoglycemia", 0.02), ("arrhythmia", 0.02), ("pressure_injury", 0.01),
)
EVENT_KEYS = tuple(e[0] for e in EVENTS)
EVENT_BASE = np.array([e[1] for e in EVENTS])

# Principal diagnosis (ICD-10) -> procedure the admission is for (lexicon "procedure:<id>").
PROCEDURE_OF_DX = {
    "K35.80": "appendectomy", "K80.20": "cholecystectomy", "K56.609": "colectomy", "K57.32": "colectomy",
    "S72.001A": "hip_arthroplasty", "M17.11": "knee_arthroplasty", "O34.211": "cesarean_section",
    "I21.4": "cardiac_cath", "I63.9": "tpa", "N18.6": "hemodialysis", "E87.5": "hemodialysis",
    "K92.2": "endoscopy", "D70.1": "picc",
}
# Diagnoses payers often judge manageable in observation when the patient is stable.
OBSERVATION_DX = ("R07.9", "R55", "G45.9", "N39.0", "L03.115", "G43.909", "R50.9", "E87.1", "E86.0",
                  "A08.4", "J06.9")
# Elements of medical necessity an admitting note may document (each has many phrasings).
NECESSITY = ("iv_therapy", "monitoring", "failed_outpatient", "two_midnights")
# Share of each site's H&Ps that state the payer's prior authorisation for an elective stay,
# and how thoroughly each site documents necessity (scales the per-element probability).
SITE_AUTH = np.array([0.9, 0.8, 0.6, 0.85])
SITE_NECESSITY = np.array([1.0, 0.9, 0.6, 0.85])
# Per-site shift of the log-odds that discharge comes without a follow-up appointment.
SITE_NO_FOLLOWUP = np.array([0.0, 0.2, 0.5, 0.1])


def events(rng: np.random.Generator, los_days, points, age) -> np.ndarray:
    """(n, len(EVENTS)) bool: events that happened; longer, sicker stays of older patients have more."""
    scale = np.exp(0.12 * np.minimum(los_days, 14) - 0.36 + 0.15 * (points - 2) + 0.01 * (age - 60))
    p = np.clip(EVENT_BASE[None, :] * scale[:, None], 0, 0.6)
    return rng.random(p.shape) < p


def necessity(rng: np.random.Generator, points, elective, site) -> np.ndarray:
    """(n, len(NECESSITY)) bool: elements the H&P documents. Sicker patients' notes document
    more; sites differ in how thoroughly they document at all."""
    base = np.array([0.45, 0.35, 0.25, 0.3])
    p = base[None, :] * np.exp(0.12 * np.minimum(points, 8))[:, None] * site_shift(SITE_NECESSITY, site)[:, None]
    p = np.where(elective[:, None], p * 0.6, p)
    return rng.random(p.shape) < np.clip(p, 0, 0.95)


def no_followup(rng: np.random.Generator, housing, substance, disposition_home, site) -> np.ndarray:
    """No follow-up appointment arranged at discharge (the note says so)."""
    logit = -2.4 + 0.9 * housing + 0.6 * substance + 0.4 * disposition_home + site_shift(SITE_NO_FOLLOWUP, site)
    return rng.random(len(housing)) < 1 / (1 + np.exp(-logit))
