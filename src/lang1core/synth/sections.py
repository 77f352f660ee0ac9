"""Section bodies that several note types share: problem lists, medications, social history,
vitals, labs, exam and review of systems.

Each asserts exactly the stay's facts; the context cues (negation with scope, "possible",
family history, "history of") are how the same concepts appear without being asserted.
"""

from __future__ import annotations

from functools import cache

from lang1core.synth import phrasing as P
from lang1core.synth.catalog import COND_INDEX, CONDITIONS, COVID_DRUGS, PAYER_WORDS
from lang1core.synth.lexicon import CATALOG_DRUGS, drug_key, drug_name, lexicon
from lang1core.synth.phrasing import HISTORY_NEG, Voice, family, negated_list
from lang1core.synth.stay import Stay

# --- problems ------------------------------------------------------------------------------------
@cache
def _incidental_keys() -> list[str]:
    return lexicon().keys("incidental")


def incidental(v: Voice, s: Stay, most: int) -> list[str]:
    """Up to `most` of the patient's own incidental (non-Charlson) problems: the same ones in
    every note about the patient, more of them with age; common problems more often."""
    pool = _incidental_keys()
    n = len(pool)
    r = P.patient_random(s.name_u, 1)
    keys = [pool[int(n * r.random() ** 2)] for _ in range(int(r.random() * (1 + min(s.age, 80) / 9)))]
    return [v.pool_form(k, v.rnd) for k in keys[:most]]


def conditions(v: Voice, keys) -> list[str]:
    return [v.form("condition:" + k) for k in keys]


def problem_list(v: Voice, s: Stay, bullets: bool) -> str:
    items = conditions(v, s.present) + incidental(v, s, 8)
    v.rnd.shuffle(items)
    if not items:
        return v.pick(("None.", "No significant past medical history.", "Denies chronic medical problems.",
                       "Noncontributory."))
    if bullets:
        return "\n".join(("- " if v.site % 2 else "* ") + x for x in items)
    return ", ".join(items) + "."


def negated_history(v: Voice, s: Stay) -> str:
    if not s.negated:
        return ""
    return f"{v.pick(HISTORY_NEG)} {v.listing(conditions(v, s.negated), 'or')}."


def family_history(v: Voice, s: Stay) -> str:
    items = [family(v, v.form("condition:" + k)) for k in s.family]
    if not items:
        return v.pick(("Noncontributory.", "Non-contributory.", "No family history of heart disease or cancer.",
                       "Unknown; patient adopted.", "Reviewed and not pertinent."))
    return "; ".join(items) + "."


# --- medications -----------------------------------------------------------------------------------
def _dose(drug: str) -> str:
    return drug[len(drug_name(drug)):].strip()


def home_drugs(v: Voice, s: Stay) -> list[str]:
    """One year-appropriate drug per treated condition (insulin and an anticoagulant for the
    high-risk ones), then unrelated drugs from the wider list."""
    out = []
    for k in s.present:
        c = CONDITIONS[COND_INDEX[k]]
        active = [d for d, a, b in c.drugs if a <= s.year <= b]
        if not active:
            continue
        if k == "dm_comp":
            drug = next(d for d in active if "insulin" in d)
        elif k == "afib":
            drug = next((d for d in active if d.startswith(("apixaban", "warfarin"))), v.pick(active))
        else:
            drug = v.pick(active)
        out.append(f"{v.form(drug_key(drug))} {_dose(drug)}")
    if s.covid:
        out += [f"{v.form(drug_key(d))} {_dose(d)}".strip() for d, a, b in COVID_DRUGS if a <= s.year <= b][:1]
    pool = background_drugs()
    r = P.patient_random(s.name_u, 2)
    for _ in range(int(r.random() * (1 + min(s.age, 80) / 12))):
        out.append(f"{v.pool_form(pool[int(len(pool) * r.random() ** 1.5)], r)} {_GENERIC_DOSES[int(r.random() * 12)]}")
    return out


_GENERIC_DOSES = ("10 mg daily", "5 mg BID", "25 mg nightly", "1 tab daily", "100 mg TID", "as directed", "PRN",
                  "0.5 mg BID", "20 mg daily", "50 mcg daily", "2 mg q6h PRN", "500 mg BID")


@cache
def background_drugs() -> list[str]:
    """Drugs outside the catalogue: listed as home medications, they carry no signal (the
    catalogue's drugs follow their conditions and years of use)."""
    return [k for k in lexicon().keys("drug") if k not in CATALOG_DRUGS]


def medication_list(v: Voice, drugs: list[str]) -> str:
    if not drugs:
        return v.pick(("None.", "No home medications.", "Takes no medications.", "NKA; no meds"))
    fmt = v.site % 3
    if fmt == 0:
        return "\n".join(f"{i + 1}. {d}" for i, d in enumerate(drugs))
    if fmt == 1:
        return "; ".join(drugs)
    return "\n".join("- " + d for d in drugs)


def allergies(v: Voice) -> str:
    if v.chance(0.6):
        return v.pick(("NKDA", "No known drug allergies", "NKA", "None known"))
    pool = background_drugs()
    react = v.pick(("rash", "hives", "anaphylaxis", "GI upset", "swelling", "itching"))
    return f"{v.pool_form(pool[int(len(pool) * v.rnd.random() ** 2)], v.rnd)} ({react})"


# --- social --------------------------------------------------------------------------------------
INDEPENDENT = ("independent in ADLs", "ambulates independently", "fully independent at baseline",
               "walks without assistance", "independent with ambulation and ADLs")
FUNCTION_KEYS = (None, "finding:assisted_function", "finding:dependent_function")


def function(v: Voice, level: int) -> str:
    return v.pick(INDEPENDENT) if level == 0 else v.form(FUNCTION_KEYS[level])
WITH_FAMILY = ("Lives with family.", "Lives with spouse.", "Lives with wife.", "Lives with husband.",
               "Lives with daughter and son-in-law.", "Lives with partner.", "Lives with parents.")
SUBSTANCE_FRAMES = ("Reports {x}.", "{X}, ongoing.", "Active {x}.", "{X}; last use this week.", "Endorses {x}.")
NO_SUBSTANCE = ("Denies illicit drug use; drinks socially.", "No drug use.", "Rare EtOH, no drugs.",
                "Social drinker, no illicit substances.", "No EtOH or drugs.")
HOUSING_FRAMES = ("Currently {x}.", "{X}.", "Patient is {x}.", "{X}, per SW.")
TOBACCO = (("Never smoker.", "No tobacco.", "Denies tobacco."),
           ("Former smoker, quit years ago.", "Ex-smoker.", "Quit smoking, remote history."),
           ("Current smoker, 1 ppd.", "Smokes half a pack a day.", "Active tobacco use."))


def social(v: Voice, s: Stay) -> str:
    if s.child:
        return v.pick(("Lives with parents. Attends school.", "Lives with mother and siblings.",
                       "Lives with parents; no smoke exposure at home.", "Daycare; lives with both parents."))
    if s.housing or s.lives_alone:
        x = v.form("finding:homeless" if s.housing else "finding:lives_alone")
        home = v.pick(HOUSING_FRAMES).format(x=x, X=P.cap(x))
    else:
        home = v.pick(WITH_FAMILY)
    if s.substance:
        x = v.form("finding:substance_use")
        sub = v.pick(SUBSTANCE_FRAMES).format(x=x, X=P.cap(x))
    else:  # often a pertinent negative of the same concept
        sub = v.pick(NO_SUBSTANCE) if v.chance(0.6) else f"Denies {v.form('finding:substance_use')}."
    parts = [home, v.pick(TOBACCO[s.smoker]), sub]
    if v.chance(0.7):
        parts.insert(1, v.pick(_OCCUPATION))
    if s.inpatient:
        parts.append("Baseline: " + function(v, s.function) + ".")
        parts.append(v.pick(_VACCINES) + (v.pick(_COVID_VACCINE) if s.year >= 2021 else ""))
    return " ".join(parts)


_VACCINES = ("Influenza vaccine this season.", "Immunizations up to date per patient.", "Declines flu vaccine.",
             "Pneumococcal vaccine given.", "Vaccination status unknown.")
_COVID_VACCINE = (" COVID-19 vaccine x2.", " COVID vaccinated and boosted.", " Declined COVID-19 vaccination.", "")
_OCCUPATION = ("Retired teacher.", "Works in construction.", "Retired.", "Works as a cashier.", "Unemployed.",
               "Works in an office.", "Retired nurse.", "On disability.", "Drives for a delivery company.",
               "Works as a home health aide.", "Retired machinist.", "Student.", "Works in food service.")


def payer_words(v: Voice, payer: str) -> str:
    return v.pick(PAYER_WORDS[payer])


# --- numbers ---------------------------------------------------------------------------------------
def vitals(v: Voice, p: dict, fmt: int, fahrenheit: bool) -> str:
    t = round(p["temp_c"] * 9 / 5 + 32, 1) if fahrenheit else p["temp_c"]
    unit = "F" if fahrenheit else "C"
    hr, sbp, rr, spo2 = int(p["hr"]), int(p["sbp"]), int(p["rr"]), int(p["spo2"])
    dbp = int(round(sbp * 0.58 + v.rnd.uniform(-6, 8)))
    o2 = "RA" if spo2 >= 92 or v.chance(0.5) else v.pick(("2L NC", "3L NC", "4L nasal cannula", "NRB"))
    weight = f" Wt {round(v.rnd.uniform(48, 130), 1)} kg, BMI {round(v.rnd.uniform(18, 42), 1)}." if v.chance(0.6) else ""
    return _vitals_line(t, unit, hr, sbp, dbp, rr, spo2, o2, fmt) + weight


def _vitals_line(t, unit, hr, sbp, dbp, rr, spo2, o2, fmt) -> str:
    if fmt == 0:
        return f"T {t} {unit}, HR {hr}, BP {sbp}/{dbp}, RR {rr}, SpO2 {spo2}% on {o2}"
    if fmt == 1:
        return f"Temp {t} {unit} | Pulse {hr} | BP {sbp}/{dbp} | Resp {rr} | O2 sat {spo2}% {o2}"
    if fmt == 2:
        return f"VS: {t} / {hr} / {sbp}/{dbp} / {rr} / {spo2}% {o2}"
    return (f"Temperature {t}, heart rate {hr}, blood pressure {sbp}/{dbp}, respiratory rate {rr}, "
            f"saturating {spo2}% on {'room air' if o2 == 'RA' else o2}")


def extra_labs(v: Voice) -> str:
    """Labs that vary but carry no outcome signal (liver panel, coagulation, cardiac markers)."""
    return (f"AST {v.randint(12, 60)}, ALT {v.randint(8, 55)}, alk phos {v.randint(40, 140)}, "
            f"T bili {round(v.rnd.uniform(0.2, 1.6), 1)}, albumin {round(v.rnd.uniform(2.6, 4.6), 1)}. "
            f"INR {round(v.rnd.uniform(0.9, 1.4), 1)}, PTT {v.randint(24, 38)}. "
            f"{v.pick(('Troponin <0.01.', 'Trop negative x1.', 'hsTnT 9.', 'BNP ' + str(v.randint(20, 900)) + '.'))} "
            f"UA {v.pick(('negative', 'with trace protein', 'bland', 'pending', 'positive LE and nitrites'))}.")


def labs(v: Voice, p: dict, fmt: int, umol: bool) -> str:
    creat = f"{int(round(p['creat'] * 88.4))}" if umol else f"{p['creat']}"
    k = round(v.rnd.uniform(3.3, 5.2), 1)
    glu = v.randint(78, 260)
    bun = v.randint(8, 45)
    plt = v.randint(120, 420)
    if fmt == 0:
        return (f"WBC {p['wbc']}, Hgb {p['hgb']}, Plt {plt}. Na {int(p['sodium'])}, K {k}, BUN {bun}, "
                f"Cr {creat}, glucose {glu}. Lactate {p['lactate']}.")
    if fmt == 1:
        return (f"Na {int(p['sodium'])} | K {k} | BUN {bun} | Cr {creat} | Glu {glu}\n"
                f"WBC {p['wbc']} | Hgb {p['hgb']} | Plt {plt}\nLactic acid {p['lactate']}")
    return (f"Sodium {int(p['sodium'])} mmol/L, potassium {k}, creatinine {creat} {'umol/L' if umol else 'mg/dL'}, "
            f"white count {p['wbc']} K/uL, hemoglobin {p['hgb']} g/dL, platelets {plt}, lactic acid "
            f"{p['lactate']} mmol/L.")


# --- exam and review of systems ---------------------------------------------------------------------
_NORMAL = {
    "General": ("no acute distress", "NAD", "well-appearing", "comfortable", "resting in bed", "appears stated age"),
    "HEENT": ("NCAT, MMM", "PERRL, EOMI", "oropharynx clear", "normocephalic, atraumatic", "dry mucous membranes"),
    "Neck": ("supple", "no lymphadenopathy", "trachea midline"),
    "CV": ("RRR, no murmurs, rubs or gallops", "regular rate and rhythm", "S1 S2 normal", "RRR, no m/r/g"),
    "Lungs": ("CTAB", "clear to auscultation bilaterally", "no wheezes or rales", "good air movement"),
    "Abdomen": ("soft, nontender, nondistended", "soft, NT/ND, +BS", "benign", "soft, non-tender"),
    "Extremities": ("no edema", "warm and well perfused", "no clubbing, cyanosis or edema", "2+ pulses"),
    "Neuro": ("CN II-XII intact", "moves all extremities", "nonfocal", "strength 5/5 throughout"),
    "Skin": ("no rashes", "warm and dry", "intact", "no lesions"),
    "Psych": ("appropriate mood and affect", "calm and cooperative", "normal affect", "anxious but redirectable"),
}
_SYSTEM_OF = {"crackles": "Lungs", "wheezes": "Lungs", "diminished_breath_sounds": "Lungs", "murmur": "CV",
              "jvd": "Neck", "peripheral_edema": "Extremities", "abdominal_tenderness": "Abdomen", "guarding": "Abdomen",
              "ascites": "Abdomen", "jaundice": "Skin", "asterixis": "Neuro", "focal_weakness": "Neuro",
              "aphasia": "Neuro", "altered_mental_status": "General", "tachycardia": "CV", "hypotension": "CV",
              "hypoxia": "Lungs", "pressure_ulcer": "Skin", "cellulitis_skin": "Skin", "cachexia": "General"}


def findings(s: Stay) -> list[str]:
    """Exam findings the stay's facts imply."""
    out = []
    has = set(s.present)
    if "chf" in has or s.dx == "I50.23":
        out += ["peripheral_edema", "jvd"]
    if s.dx in ("J18.9", "U07.1", "J44.1") or "cpd" in has:
        out.append("crackles" if s.dx != "J44.1" else "wheezes")
    if "liver_severe" in has:
        out += ["ascites", "jaundice"]
    if "mets" in has:
        out.append("cachexia")
    if s.dx in ("I63.9", "I69.351") or "hemiplegia" in has:
        out.append("focal_weakness")
    if s.dx == "L03.115":
        out.append("cellulitis_skin")
    if s.dx in ("K35.80", "K80.20", "K57.32", "K56.609"):
        out.append("abdominal_tenderness")
    if s.ams:
        out.append("altered_mental_status")
    if s.phys and s.phys["hr"] > 100:
        out.append("tachycardia")
    if s.phys and s.phys["sbp"] < 90:
        out.append("hypotension")
    return out


def exam(v: Voice, s: Stay) -> str:
    positive: dict[str, list[str]] = {}
    for f in findings(s):
        if f in ("tachycardia", "hypotension") and not v.chance(0.35):
            continue
        positive.setdefault(_SYSTEM_OF[f], []).append(v.form("finding:" + f))
    lines = []
    for system, normals in _NORMAL.items():
        if system == "General" and not s.ams:
            body = v.pick(normals) + ", " + v.pick(("A&Ox3", "alert and oriented x3", "awake and alert", "AAOx3"))
        elif system in positive:
            body = ", ".join(positive[system])
            if v.chance(0.5):
                body += ", " + v.pick(normals)
        elif v.chance(0.95):
            body = ", ".join(v.rnd.sample(normals, 2 if v.chance(0.5) else 1))
        else:
            continue
        lines.append(f"{system}: {body}")
    return "\n".join(lines) if v.site % 2 == 0 else ". ".join(lines) + "."


ROS_SYSTEMS = (("Constitutional", ("fever", "chills", "fatigue", "weight_loss")), ("Cardiovascular", ("chest_pain", "palpitations", "leg_swelling")),
               ("Respiratory", ("dyspnea", "cough", "wheezing", "hemoptysis")),
               ("GI", ("nausea", "vomiting", "abdominal_pain", "diarrhea", "melena")), ("GU", ("dysuria",)),
               ("Neuro", ("headache", "dizziness", "syncope", "seizure", "confusion")),
               ("Psych", ("anxiety", "insomnia")), ("Skin", ("rash",)), ("MSK", ("back_pain", "falls")))


def review_of_systems(v: Voice, s: Stay, positives: list[str]) -> str:
    lines = []
    for system, symptoms in ROS_SYSTEMS:
        pos = [x for x in symptoms if x in positives]
        neg = [x for x in symptoms if x not in positives and not (x == "confusion" and s.ams)]
        v.rnd.shuffle(neg)
        neg = neg[: v.randint((len(neg) + 1) // 2, max(1, len(neg)))]
        parts = []
        if pos:
            parts.append("positive for " + v.listing([v.form("symptom:" + x) for x in pos]))
        if neg:
            parts.append(("negative for " if pos or v.chance(0.5) else "denies ")
                         + v.listing([v.form("symptom:" + x) for x in neg], "or"))
        lines.append(f"{system}: {'; '.join(parts)}")
    tail = v.pick(("All other systems reviewed and negative.", "Otherwise 10-point ROS negative.",
                   "Remainder of ROS negative.", ""))
    return "\n".join(lines) + ("\n" + tail if tail else "")


def pertinent_negatives(v: Voice, s: Stay, positives: list[str], k: int) -> str:
    pool = [x for _, syms in ROS_SYSTEMS for x in syms if x not in positives and not (x == "confusion" and s.ams)]
    v.rnd.shuffle(pool)
    return negated_list(v, [v.form("symptom:" + x) for x in pool[:k]])
