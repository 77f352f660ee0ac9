"""Patients: demographics, social factors, time in the health system, chronic conditions.

Conditions are stored as onset ages: condition k is present at an encounter when the
patient's age then is at least `onset[:, k]` (inf: never). That gives age-dependent
prevalence for free and keeps a patient's problem list consistent across encounters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lang1core.synth.catalog import CONDITIONS, COND_INDEX, ETHNICITIES, RACES, REGIONS

DAY = np.timedelta64(1, "D")
# Global scale of the catalogue's lifetime prevalences (calibrates the inpatient CCI mix).
PREVALENCE_SCALE = 0.16
# How strongly latent frailty raises every condition's ceiling (clusters multimorbidity).
FRAILTY_EXPONENT = 1.0
# Ceiling of any one condition's lifetime probability, however frail the patient.
PMAX_CAP = 0.5
YEAR_DAYS = 365.25


@dataclass
class Population:
    """One chunk of patients; arrays are (n,) unless noted."""

    patient_id: np.ndarray  # str
    birth: np.ndarray  # datetime64[D]
    sex: np.ndarray  # "female" / "male"
    race: np.ndarray
    ethnicity: np.ndarray
    region: np.ndarray
    home_site: np.ndarray  # int index into config.sites
    entry: np.ndarray  # datetime64[D]: first day the patient may have an encounter
    exit: np.ndarray  # datetime64[D]: last such day
    frailty: np.ndarray  # latent N(0,1): earlier and more conditions, more encounters
    social: np.ndarray  # latent N(0,1): housing, substance use, Medicaid
    effect: np.ndarray  # latent N(0,1): the patient's own risk, the same at every stay, never documented
    name_u: np.ndarray  # (n, 3) uniform: picks the fake first name, surname and MRN that notes print
    housing_unstable: np.ndarray  # bool
    substance_use: np.ndarray  # bool
    smoker: np.ndarray  # int 0 never, 1 former, 2 current
    lives_alone_u: np.ndarray  # uniform; lives alone when old and u small
    payer_u: np.ndarray  # uniform; fixes the patient's payer for a given age
    onset: np.ndarray  # (n, N_COND) float years; inf = never

    def __len__(self) -> int:
        return len(self.patient_id)


def _categorical(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(len(p), size=n, p=np.asarray(p) / np.sum(p))


def make_population(rng: np.random.Generator, first_index: int, n: int, start_year: int,
                    end_year: int, n_sites: int) -> Population:
    """Draw `n` patients numbered from `first_index`."""
    start = np.datetime64(f"{start_year}-01-01")
    end = np.datetime64(f"{end_year}-12-31")
    span = (end - start) / DAY
    # Entry skewed toward later years (the system grows); some patients are already in
    # care when the records begin. Windows last ~10 years on average.
    entry_days = (-4 * YEAR_DAYS + (span + 4 * YEAR_DAYS) * rng.random(n) ** 0.8).clip(0, span - 30)
    length = rng.exponential(10 * YEAR_DAYS, n) + 180
    entry = start + entry_days.astype(np.int64) * DAY
    exit_ = np.minimum(entry + length.astype(np.int64) * DAY, end)
    # Age at entry: 20% children, adults skewed to middle age.
    child = rng.random(n) < 0.20
    age_entry = np.where(child, rng.random(n) * 18, 18 + rng.gamma(2.2, 15.0, n)).clip(0, 100)
    birth = entry - (age_entry * YEAR_DAYS).astype(np.int64) * DAY
    # Nobody stays in care past ~85-100 years of age.
    exit_ = np.minimum(exit_, birth + ((85 + 15 * rng.random(n)) * YEAR_DAYS).astype(np.int64) * DAY)
    exit_ = np.maximum(exit_, entry + 30 * DAY)

    frailty = rng.standard_normal(n)
    social = rng.standard_normal(n)
    onset = np.full((n, len(CONDITIONS)), np.inf)
    for k, c in enumerate(CONDITIONS):
        # P(onset by age x) = pmax * sigmoid((x - mid)/scale); frail patients get a higher
        # ceiling and earlier onset. Solve for the age at which u is reached.
        pmax = np.clip(PREVALENCE_SCALE * c.pmax * np.exp(FRAILTY_EXPONENT * frailty), 0, PMAX_CAP)
        u = rng.random(n)
        hit = u < pmax
        ratio = np.clip(u / pmax, 1e-9, 1 - 1e-9)
        age = c.mid - 4.0 * frailty + c.scale * np.log(ratio / (1 - ratio))
        onset[:, k] = np.where(hit, np.maximum(age, 0.5), np.inf)
    for k, c in enumerate(CONDITIONS):
        if c.parent is not None:
            # A complication follows its parent condition.
            p = COND_INDEX[c.parent]
            onset[:, k] = np.where(np.isfinite(onset[:, p]), np.maximum(onset[:, k], onset[:, p] + 1.0), np.inf)
    # Children's conditions: asthma is common, little else.
    cpd = COND_INDEX["cpd"]
    kid_asthma = rng.random(n) < 0.04
    onset[:, cpd] = np.where(kid_asthma, rng.random(n) * 10 + 2, onset[:, cpd])

    sex = np.where(rng.random(n) < 0.54, "female", "male")
    ids = np.char.add("P", np.char.zfill(np.arange(first_index, first_index + n).astype(str), 8))
    return Population(
        patient_id=ids,
        birth=birth,
        sex=sex,
        race=np.asarray(RACES)[_categorical(rng, np.array([58, 20, 9, 9, 4]), n)],
        ethnicity=np.asarray(ETHNICITIES)[_categorical(rng, np.array([80, 16, 4]), n)],
        region=np.asarray(REGIONS)[_categorical(rng, np.array([35, 30, 20, 10, 5]), n)],
        home_site=_categorical(rng, np.linspace(1.4, 0.8, n_sites), n),
        entry=entry,
        exit=exit_,
        frailty=frailty,
        social=social,
        effect=rng.standard_normal(n),
        name_u=rng.random((n, 3)),
        housing_unstable=social + 0.3 * rng.standard_normal(n) > 1.9,
        substance_use=social + 0.8 * rng.standard_normal(n) > 1.6,
        smoker=_categorical(rng, np.array([60, 25, 15]), n),
        lives_alone_u=rng.random(n),
        payer_u=rng.random(n),
        onset=onset,
    )
