"""Encounters of one chunk of patients, with every outcome drawn from the latent model.

Order of events (why it is safe for the labels):
1. Background encounters: a Poisson number per patient over their time in the system, each
   with a class, department, admission type, payer and site.
2. Every inpatient stay gets its facts (conditions, acuity, vitals, code status, principal
   diagnosis, documentation) and outcomes (LOS, death, disposition, readmission draw).
3. Background encounters that would overlap a stay, or inpatient ones that would start within
   30 days of a discharge, are removed, so the only inpatient admission within 30 days of a
   discharge is the readmission that the latent model drew for it.
4. Readmissions are added as real later stays of the same patient (their own facts and
   outcomes; they may be readmitted in turn), and step 3 is repeated against them (a removed
   background stay takes its readmissions with it).
5. Nothing happens after a patient's death.
"""

from __future__ import annotations

import numpy as np

from lang1core.synth import course, latent, physiology
from lang1core.synth.catalog import (
    COND_INDEX, CONDITIONS, COVID, DEPARTMENTS, DEPT_INDEX, DEPT_KEYS, DISPOSITIONS, INPATIENT_DEPTS,
    READMISSION_EXCLUDED,
)
from lang1core.synth.population import YEAR_DAYS, Population

CLASSES = ("inpatient", "observation", "emergency", "outpatient")
ADMISSION_TYPES = ("emergency", "urgent", "elective")
HOUR = np.timedelta64(1, "h")
MINUTE = np.timedelta64(1, "m")
SECOND = np.timedelta64(1, "s")
DAY_S = np.timedelta64(86400, "s")
READMIT_WINDOW_DAYS = 30
MAX_READMIT_ROUNDS = 4

# Flattened principal-diagnosis table (row per (department, diagnosis)).
DX_DEPT = np.array([DEPT_INDEX[d.key] for d in DEPARTMENTS for _ in d.diagnoses])
DX_CODE = np.array([x[0] for d in DEPARTMENTS for x in d.diagnoses] + [COVID[0]])
DX_WORDS = np.array([x[1] for d in DEPARTMENTS for x in d.diagnoses] + [COVID[1]])
DX_COMPLAINT = np.array([x[2] for d in DEPARTMENTS for x in d.diagnoses] + [COVID[2]])
DX_REQ = np.array([COND_INDEX[x[3]] if x[3] else -1 for d in DEPARTMENTS for x in d.diagnoses])
DX_CAT = np.array([COND_INDEX[x[4]] if x[4] else -1 for d in DEPARTMENTS for x in d.diagnoses] + [-1])
DX_W = np.array([x[5] for d in DEPARTMENTS for x in d.diagnoses])
COVID_DX = len(DX_CODE) - 1

CHARLSON_W = np.array([c.weight for c in CONDITIONS], dtype=float)
# Groups scored as "highest coded member" (pycomorb's exclusion rules): parent -> child.
HIERARCHY = tuple((COND_INDEX[c.parent], k) for k, c in enumerate(CONDITIONS) if c.parent)
# A child whose code replaces the parent's (a complicated diabetes code is also a diabetes code).
SUPERSEDES = {COND_INDEX["dm_comp"]: COND_INDEX["dm"]}
INPATIENT_DEPT_IDX = np.array([DEPT_INDEX[k] for k in INPATIENT_DEPTS])
EXCLUDED_IDX = np.array([DEPT_INDEX[k] for k in READMISSION_EXCLUDED])


def _pick_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) non-negative weight matrix."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(1), weights.shape[1] - 1)


def present_conditions(pop: Population, pat: np.ndarray, age: np.ndarray) -> np.ndarray:
    """(n, N_COND) bool: condition present at the encounter (complications replace parents)."""
    present = pop.onset[pat] <= age[:, None]
    for child, parent in SUPERSEDES.items():
        present[:, parent] &= ~present[:, child]
    return present


def burden(present: np.ndarray, principal_cat: np.ndarray) -> np.ndarray:
    """Charlson weights of what the H&P lists (conditions plus the principal's category)."""
    has = present.copy()
    rows = np.nonzero(principal_cat >= 0)[0]
    has[rows, principal_cat[rows]] = True
    w = has * CHARLSON_W
    for parent, child in HIERARCHY:
        both = has[:, parent] & has[:, child]
        w[both, parent] = 0.0
    return w.sum(1)


def _payer(pop: Population, pat: np.ndarray, age: np.ndarray) -> np.ndarray:
    u = pop.payer_u[pat]
    s = np.maximum(pop.social[pat], 0)
    medicaid_p = np.clip(0.10 + 0.12 * s + 0.30 * (age < 18), 0, 0.9)
    young = np.where(u < medicaid_p, 1, np.where(u < medicaid_p + 0.04, 3, np.where(u < medicaid_p + 0.08, 4, 2)))
    old = np.where(u < 0.88, 0, np.where(u < 0.95, 2, 1))
    return np.where(age >= 65, old, young)


def background_encounters(rng: np.random.Generator, pop: Population, n_sites: int,
                          start_year: int, end_year: int) -> dict[str, np.ndarray]:
    n = len(pop)
    years = (pop.exit - pop.entry) / np.timedelta64(1, "D") / YEAR_DAYS
    mid_age = ((pop.entry - pop.birth) / np.timedelta64(1, "D") / YEAR_DAYS) + years / 2
    rate = 0.55 * np.exp(0.35 * pop.frailty + 0.012 * np.maximum(mid_age - 40, 0)) * (1 + 0.5 * (mid_age < 2))
    count = np.minimum(rng.poisson(rate * years * 1.3), 120)
    pat = np.repeat(np.arange(n), count)
    offset_days = rng.random(len(pat)) * ((pop.exit - pop.entry)[pat] / np.timedelta64(1, "D"))
    admit_day = pop.entry[pat] + offset_days.astype(np.int64) * np.timedelta64(1, "D")
    # The system grows: thin early years (keep 0.45 in the first year rising to 1 in the last).
    year = admit_day.astype("datetime64[Y]").astype(int) + 1970
    keep = rng.random(len(pat)) < 0.45 + 0.55 * (year - start_year) / max(end_year - start_year, 1)
    pat, admit_day = pat[keep], admit_day[keep]
    m = len(pat)
    age = (admit_day - pop.birth[pat]) / np.timedelta64(1, "D") / YEAR_DAYS
    present = present_conditions(pop, pat, age)
    b = burden(present, np.full(m, -1))
    year = admit_day.astype("datetime64[Y]").astype(int) + 1970
    # 2024: sicker patients make up more of the admissions (the study's shift).
    p_inp = 1 / (1 + np.exp(-(-1.75 + 0.018 * (age - 50) + (0.15 + 0.12 * (year == 2024)) * b
                               - 0.6 * (age < 18))))
    u = rng.random(m)
    cls = np.where(u < p_inp, 0, np.where(u < p_inp + 0.06, 1, np.where(u < p_inp + 0.28, 2, 3)))
    return dict(pat=pat, admit_day=admit_day, age=age, cls=cls, present=present)


def _inpatient_dept(rng, pop, pat, age, present) -> np.ndarray:
    female = pop.sex[pat] == "female"
    child = age < 18
    adult = ~child
    has = lambda k: present[:, COND_INDEX[k]]
    w = {
        "medicine": 30.0 * adult, "cardiology": 8.0 * (age > 35), "surgery": 10.0 * adult + 8.0 * child,
        "orthopedics": (3.0 + 0.08 * np.maximum(age - 40, 0)) * adult, "neurology": 5.0 * adult,
        "obstetrics": 28.0 * (female & (age >= 16) & (age <= 45)), "pediatrics": 80.0 * child,
        "oncology": 30.0 * has("cancer"), "psychiatry": 4.0 * (age >= 12),
        "rehabilitation": 2.5 * (age > 50), "dialysis": 7.0 * has("renal"),
        "palliative_care": 8.0 * has("mets") + 1.5 * (age > 80),
    }
    weights = np.stack([np.asarray(w[k], dtype=float) * np.ones(len(pat)) for k in INPATIENT_DEPTS], axis=1)
    return INPATIENT_DEPT_IDX[_pick_rows(rng, weights)]


def _other_dept(rng, cls, age, present) -> np.ndarray:
    n = len(cls)
    dept = np.full(n, DEPT_INDEX["primary_care"])
    dept[cls == 2] = DEPT_INDEX["emergency"]
    obs = cls == 1
    dept[obs] = np.where(rng.random(n) < 0.6, DEPT_INDEX["medicine"], DEPT_INDEX["cardiology"])[obs]
    out = cls == 3
    w = np.stack([
        np.full(n, 70.0), 10.0 * (age > 35), 20.0 * present[:, COND_INDEX["cancer"]],
        30.0 * present[:, COND_INDEX["renal"]], np.full(n, 2.0), 80.0 * (age < 18),
    ], axis=1)
    choice = np.array([DEPT_INDEX[k] for k in ("primary_care", "cardiology", "oncology", "dialysis",
                                                "rehabilitation", "pediatrics")])
    dept[out] = choice[_pick_rows(rng, w[out])]
    dept[obs & (age < 18)] = DEPT_INDEX["pediatrics"]
    return dept


def principal_dx(rng, dept, present, admit_day) -> np.ndarray:
    """Row into the DX_* table per encounter: a diagnosis of the department the patient can have."""
    ok = (DX_DEPT[None, :] == dept[:, None]) & ((DX_REQ[None, :] < 0) | present[:, np.maximum(DX_REQ, 0)])
    weights = ok * DX_W[None, :]
    # Departments whose every diagnosis needs a condition fall back to their first diagnosis.
    none = weights.sum(1) == 0
    first = np.array([np.nonzero(DX_DEPT == d)[0][0] for d in range(len(DEPT_KEYS))])
    weights[none, first[dept[none]]] = 1.0
    dx = _pick_rows(rng, weights)
    # COVID-19 (U07.1 exists from April 2020): a large share of medicine admissions in the
    # pandemic years, tailing off in 2022.
    day = admit_day.astype("datetime64[D]")
    wave = np.where((day >= np.datetime64("2020-04-01")) & (day < np.datetime64("2022-01-01")), 0.35,
                    np.where((day >= np.datetime64("2022-01-01")) & (day < np.datetime64("2023-01-01")), 0.12, 0.0))
    covid = (dept == DEPT_INDEX["medicine"]) & (rng.random(len(dept)) < wave)
    dx[covid] = COVID_DX
    return dx


def _times(rng, admit_day, los_days, cls):
    """Admission and discharge date-times; floor((discharge - admit) / 24 h) == calendar days."""
    n = len(admit_day)
    admit = admit_day.astype("datetime64[s]") + (rng.random(n) * 86340).astype(np.int64) * SECOND
    end_of_day = admit_day.astype("datetime64[s]") + 86399 * SECOND
    room = (end_of_day - admit) / SECOND  # seconds left in the admission's day
    dur = np.select(
        [cls == 0, cls == 1, cls == 2],
        [los_days * 86400 + np.minimum(rng.random(n) * 6 * 3600, room) + 60 * (los_days == 0) * 0,
         np.minimum(8 * 3600 + rng.random(n) * 14 * 3600, room + 86400),
         np.minimum(2 * 3600 + rng.random(n) * 6 * 3600, room + 86400)],
        default=np.minimum(1200 + rng.random(n) * 2400, room),
    ).astype(np.int64)
    admit = admit.astype("datetime64[us]")
    return admit, admit + np.maximum(dur, 0).astype("timedelta64[s]").astype("timedelta64[us]")


def simulate_stays(rng: np.random.Generator, pop: Population, pat, admit_day, age, present, dept,
                   adm_type, payer, site) -> dict[str, np.ndarray]:
    """Facts and outcomes of inpatient stays (arrays of length n; matrices (n, k))."""
    n = len(pat)
    year = admit_day.astype("datetime64[Y]").astype(int) + 1970
    y2024 = year >= 2024
    dx = principal_dx(rng, dept, present, admit_day)
    covid = dx == COVID_DX
    pcat = DX_CAT[dx]
    b = burden(present, pcat)
    emergency = adm_type == 0
    elective = adm_type == 2
    # Latent acuity shows only through the printed vitals and labs; outcomes read those.
    acuity = latent.acuity_prior_mean(dept, emergency, covid) + rng.standard_normal(n)
    phys = physiology.draw(rng, acuity, present, covid)
    ams = physiology.altered_mentation(rng, acuity, present)
    points = physiology.warning_points(phys, ams)
    mets = present[:, COND_INDEX["mets"]]
    palliative = dept == DEPT_INDEX["palliative_care"]
    dnr = rng.random(n) < latent.expit(latent.dnr_logit(age, b, palliative, mets))
    frail = (0.04 * np.maximum(age - 60, 0) + 0.5 * present[:, COND_INDEX["dementia"]]
             + 1.5 * present[:, COND_INDEX["hemiplegia"]] + 0.15 * b + 0.5 * rng.standard_normal(n))
    function = np.where(age < 18, 0, np.digitize(frail, (1.0, 2.2)))  # 0 independent, 1 assisted, 2 dependent
    procedure = np.isin(DX_CODE[dx], list(course.PROCEDURE_OF_DX)) & (rng.random(n) < 0.85)
    substance = pop.substance_use[pat] & (age >= 18)
    housing = pop.housing_unstable[pat]
    lives_alone = (age >= 60) & (pop.lives_alone_u[pat] < 0.3) & ~housing
    effect = pop.effect[pat]
    # Length of stay and death, from the H&P's facts plus the undocumented part.
    mort = (latent.mortality_visible(age, b, dnr, dept, covid, points, site, y2024)
            + latent.MORT_PATIENT * effect + latent.noise_sd("mortality", latent.MORT_SIGMA, y2024) * rng.standard_normal(n))
    expired = rng.random(n) < latent.expit(mort)
    log_los = (latent.los_visible(age, b, dept, elective, covid, y2024, points, function, lives_alone, procedure, site)
               + latent.LOS_PATIENT * effect + latent.noise_sd("los", latent.LOS_SIGMA, y2024) * rng.standard_normal(n))
    los_days = np.floor(np.exp(log_los)).astype(np.int64).clip(0, 120)
    # Denial: documentation of necessity and prior authorisation, payer and stability.
    need = course.necessity(rng, points, elective, site)
    no_auth = elective & (rng.random(n) > latent.site_shift(course.SITE_AUTH, site))
    obs_dx = np.isin(DX_CODE[dx], course.OBSERVATION_DX)
    denied = rng.random(n) < latent.expit(
        latent.denial_visible(need.sum(1), payer, elective, no_auth, obs_dx, points, year, site)
        + latent.noise_sd("denial", latent.DENIAL_SIGMA, y2024) * rng.standard_normal(n))
    # The hospital course and discharge.
    ev = course.events(rng, los_days, points, age)
    disp = _pick_rows(rng, np.exp(latent.disposition_logits(age, b, los_days, dnr, dept, substance, housing, function)))
    disp = np.where(expired, DISPOSITIONS.index("expired"), disp)
    dc = physiology.discharge_labs(rng, phys, los_days)
    abnormal = (dc["hgb"] < 8.0).astype(np.int64) + (dc["sodium"] < 130)
    high_risk = present[:, COND_INDEX["dm_comp"]] | present[:, COND_INDEX["afib"]]
    nofu = course.no_followup(rng, housing, substance, disp == 0, site) & ~expired
    readmit_logit = (latent.readmission_visible(age, b, housing, substance, lives_alone, los_days, disp, dept,
                                                ev.sum(1), abnormal, high_risk, nofu, site, y2024)
                     + latent.READMIT_PATIENT * effect + latent.noise_sd("readmission", latent.READMIT_SIGMA, y2024) * rng.standard_normal(n))
    readmit = (rng.random(n) < latent.expit(readmit_logit)) & ~expired & ~np.isin(dept, EXCLUDED_IDX)
    # What notes mention without asserting it for this patient now: family history, pertinent
    # negatives and conditions still being ruled out (coded only if confirmed).
    possible = ~present & (rng.random(present.shape) < POSSIBLE_RATE[None, :])
    family = rng.random(present.shape) < FAMILY_RATE[None, :]
    negated = ~present & ~possible & (rng.random(present.shape) < 0.03)
    negated_events = ~ev & (rng.random(ev.shape) < 0.08)
    return dict(dx=dx, covid=covid, burden=b, phys=np.stack([phys[k] for k in physiology.NAMES], 1),
                ams=ams, points=points, dnr=dnr, dnr_discussed=~dnr & (rng.random(n) < 0.08 + 0.1 * (age > 75)),
                function=function, procedure=procedure, need=need, no_auth=no_auth, obs_dx=obs_dx,
                expired=expired, los_days=los_days, disposition=disp, readmit=readmit, denied=denied,
                lives_alone=lives_alone, substance=substance, events=ev, negated_events=negated_events,
                dc_labs=np.stack([dc[k] for k in DC_LABS], 1), abnormal=abnormal, high_risk=high_risk,
                no_followup=nofu, possible=possible, family=family, negated=negated)


# Discharge labs the summary prints, in the column order of `dc_labs`.
DC_LABS = ("hgb", "sodium", "creat")
# Per-condition chance that an H&P raises a condition the patient does not have as possible
# ("rule out", "concern for"); confirmation is the coder's business (coding.POSSIBLE_CODED).
POSSIBLE_RATE = np.array([0.02 if c.weight else 0.0 for c in CONDITIONS])
# Per-condition chance that the family history names it (common conditions more often).
FAMILY_RATE = np.clip(np.array([0.25 * c.pmax for c in CONDITIONS]), 0.005, 0.12)
