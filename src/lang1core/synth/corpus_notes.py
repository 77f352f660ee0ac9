"""Notes that make the pretraining corpus: daily progress notes (copied forward day to day),
nursing, radiology, consult and pathology notes during stays, and clinic and emergency notes
for other encounters.

They are written in the corpus voice (`Voice(corpus=True)`): the lexicon's flatter form
weights, so a form that is rare in task notes is common here, and a model pretrained on the
corpus has seen it.
"""

from __future__ import annotations

from lang1core.synth import phrasing as P
from lang1core.synth import sections as S
from lang1core.synth.hp import DEPT_WORDS, DX_SYMPTOMS
from lang1core.synth.phrasing import Voice
from lang1core.synth.stay import Stay

SUBJECTIVE = ("feels better today", "reports less pain", "slept poorly", "no new complaints", "tired but improving",
              "states breathing is easier", "ate most of breakfast", "asking about going home", "nauseated overnight",
              "family at bedside, questions answered", "ambulated with PT", "pain controlled on current regimen")
PLAN_TWEAKS = ("continue current management", "advance diet", "wean oxygen as tolerated", "transition to PO "
               "antibiotics", "PT/OT following", "monitor electrolytes", "recheck labs in AM", "hold diuretics today",
               "dispo planning with CM", "increase activity", "repeat imaging if worse", "follow cultures")


def progress(v: Voice, s: Stay, day: int, carried: list[str]) -> tuple[str, list[str]]:
    """Hospital day `day`; `carried` is yesterday's assessment, copied forward and edited."""
    dx = v.form("diagnosis:" + s.dx)
    plan = carried[:] if carried and v.chance(0.8) else [f"{dx}: {v.pick(PLAN_TWEAKS)}."]
    plan.append(f"{v.pick(('Day', 'HD', 'Hospital day'))} {day}: {v.pick(PLAN_TWEAKS)}; {v.pick(PLAN_TWEAKS)}.")
    for e in s.events:
        if v.chance(0.3):
            plan.append(f"{v.form('event:' + e)} - {v.pick(PLAN_TWEAKS)}.")
    p = s.phys
    hr = int(p["hr"] + v.rnd.uniform(-15, 5) * day / 2)
    text = (f"{v.pick(('Progress Note', 'PROGRESS NOTE', 'Daily Progress Note', 'Medicine Progress Note', 'SOAP Note'))}"
            f" - hospital day {day}\nS: {v.pick(SUBJECTIVE).capitalize()}; {v.pick(SUBJECTIVE)}.\n"
            f"O: HR {hr}, BP {int(p['sbp'] + v.rnd.uniform(-5, 15))}/{v.randint(50, 88)}, RR {v.randint(14, 22)}, "
            f"SpO2 {v.randint(92, 99)}%. {S.exam(v, s).splitlines()[0]}\n"
            f"A/P: " + "\n".join(plan[-6:]) + f"\n-- {v.surname()}, {v.pick(('MD', 'DO', 'PA-C', 'NP'))}")
    return text, plan[-4:]


NURSE_SLOTS = (
    ("Pain {n}/10", "Pain {n}/10, medicated per MAR", "Reports pain {n} out of 10", "Denies pain", "Pain {n}/10 at rest"),
    ("ambulating in hallway with assist", "up to chair x2", "bedrest maintained", "ambulated with walker and standby assist",
     "repositioned q2h", "OOB to bathroom independently"),
    ("tolerating regular diet", "NPO for procedure", "poor appetite, ate {n}0% of meal", "clear liquids tolerated",
     "encouraged fluids"),
    ("PIV left forearm, site clean and dry", "PIV R AC patent, no redness", "PICC line intact, dressing CDI",
     "IV saline locked", "IV fluids infusing at 75 mL/h"),
    ("skin intact", "sacral skin intact, barrier cream applied", "heels offloaded", "dressing to wound clean and dry"),
    ("fall precautions in place", "bed alarm on", "call light within reach", "side rails up x2", "non-skid socks on"),
    ("family at bedside", "spouse updated by phone", "no visitors this shift", "daughter called, questions answered",
     "patient resting comfortably"),
    ("voiding without difficulty", "foley draining clear yellow urine", "BM this shift", "incontinent x1, cleaned",
     "strict I/O maintained"),
)


def nursing(v: Voice, s: Stay) -> str:
    parts = [v.pick(slot).format(n=v.randint(0, 9)) for slot in NURSE_SLOTS if v.chance(0.75)]
    v.rnd.shuffle(parts)
    if s.present and v.chance(0.4):
        parts.append(f"hx {v.form('condition:' + v.pick(s.present))}")
    sym = DX_SYMPTOMS.get(s.dx)
    if sym and v.chance(0.5):
        parts.append(f"c/o {v.form('symptom:' + v.pick(sym))}")
    if 2020 <= s.year <= 2022:
        parts.append(v.pick(("droplet precautions maintained", "visitor restrictions explained", "masked in room")))
    head = v.pick(("Nursing note", "RN note", "Nursing Shift Assessment", "Nursing", "Shift note"))
    return f"{head}: " + "; ".join(parts) + f". {v.pick(('Will continue to monitor.', 'Endorsed to oncoming RN.', 'Plan of care reviewed.'))} -- {v.surname()}, RN"


RAD_EXAMS = ("CHEST RADIOGRAPH, PA AND LATERAL", "CT HEAD WITHOUT CONTRAST", "CT ABDOMEN AND PELVIS WITH CONTRAST",
             "US ABDOMEN COMPLETE", "CTA CHEST", "MRI BRAIN WITHOUT AND WITH CONTRAST", "DUPLEX LOWER EXTREMITY VENOUS",
             "PORTABLE CHEST X-RAY", "XR HIP 2 VIEWS", "ECHOCARDIOGRAM TRANSTHORACIC")
RAD_NORMAL = ("No acute abnormality.", "No focal consolidation, effusion or pneumothorax.", "No acute intracranial "
              "hemorrhage or mass effect.", "Unremarkable study.", "No evidence of deep venous thrombosis.",
              "Heart size normal.", "No free air.", "Degenerative changes of the spine.")
RAD_FINDING_OF = {"chf": ("cardiomegaly", "pulmonary_edema", "effusion"), "cpd": ("diminished_breath_sounds",),
                  "liver_severe": ("ascites",), "J18.9": ("consolidation",), "U07.1": ("ground_glass",),
                  "I50.23": ("pulmonary_edema", "effusion")}


def radiology(v: Voice, s: Stay) -> str:
    exam = v.pick(RAD_EXAMS)
    keys = [f for k in (s.dx,) + s.present for f in RAD_FINDING_OF.get(k, ())]
    findings = [P.sentence(v.form("finding:" + f) + " noted") for f in keys if v.chance(0.7)]
    findings += [v.pick(RAD_NORMAL) for _ in range(v.randint(1, 3))]
    v.rnd.shuffle(findings)
    compare = v.pick(("None.", f"Prior study from {P.date(v, P.days_after(s.admit, -v.randint(30, 900)))}.",
                      "No prior for comparison.", "Outside images not available."))
    impression = findings[0] if v.chance(0.6) else v.pick(("No acute process.", "Findings as above.",
                                                           "Correlate clinically.", "Recommend follow-up imaging."))
    return (f"EXAM: {exam}\nINDICATION: {v.form('symptom:' + v.pick(DX_SYMPTOMS.get(s.dx) or ('weakness',)))}\n"
            f"COMPARISON: {compare}\nFINDINGS: {' '.join(findings)}\nIMPRESSION: {impression}\n"
            f"Read by: {v.surname()}, MD")


CONSULTANTS = ("Cardiology", "Infectious Disease", "Nephrology", "Gastroenterology", "Palliative Care", "Psychiatry",
               "Endocrinology", "Pulmonology", "Social Work", "Wound Care")
RECS = ("Agree with current plan.", "Recommend echocardiogram.", "Adjust antibiotics per cultures.", "Renally dose "
        "medications.", "Will follow peripherally.", "Goals of care discussion held with family.", "Start insulin "
        "basal-bolus regimen.", "Outpatient follow-up in clinic.", "Consider endoscopy if bleeding recurs.",
        "Recommend PT evaluation.", "Check TSH and B12.", "Continue current regimen; no changes.")


def consult(v: Voice, s: Stay) -> str:
    service = v.pick(CONSULTANTS)
    reason = v.form("diagnosis:" + s.dx) if v.chance(0.5) or not s.present else v.form("condition:" + v.pick(s.present))
    recs = [v.pick(RECS) for _ in range(v.randint(2, 4))]
    return (f"{service} Consult Note\nReason for consult: {reason}\nHPI: {P.age_phrase(v, s.age, s.female)} with "
            f"{v.listing(S.conditions(v, s.present[:4])) or 'no chronic problems'}. {v.pick(SUBJECTIVE).capitalize()}.\n"
            f"Recommendations:\n" + "\n".join(f"{i + 1}. {r}" for i, r in enumerate(recs))
            + f"\nThank you for this consult. -- {v.surname()}, MD ({service})")


SPECIMENS = {"appendectomy": "appendix", "cholecystectomy": "gallbladder", "colectomy": "colon, segmental resection",
             "hip_arthroplasty": "femoral head", "endoscopy": "gastric biopsy", None: "skin, shave biopsy"}
PATH_DX = ("acute suppurative appendicitis", "chronic cholecystitis with cholelithiasis", "benign colonic mucosa",
           "reactive lymphoid hyperplasia", "adenocarcinoma, moderately differentiated", "degenerative joint disease",
           "chronic active gastritis, H. pylori negative", "seborrheic keratosis", "diverticular disease with "
           "acute inflammation")


MICROSCOPIC = ("Sections show mucosa with preserved architecture.", "There is a dense neutrophilic infiltrate.",
               "No dysplasia or malignancy identified.", "Margins are free of tumor.", "Focal ulceration is present.",
               "Lymphovascular invasion is not identified.", "Fibrosis and chronic inflammation are seen.",
               "Special stains are negative for organisms.", "Immunostains support the diagnosis.",
               "Serosal surface shows fibrinous exudate.")


def pathology(v: Voice, s: Stay) -> str:
    spec = SPECIMENS.get(s.procedure, SPECIMENS[None])
    size = f"{v.rnd.uniform(0.4, 12):.1f} x {v.rnd.uniform(0.3, 6):.1f} x {v.rnd.uniform(0.2, 4):.1f} cm"
    history = f"{P.age_phrase(v, s.age, s.female)} with {v.form('diagnosis:' + s.dx)}"
    micro = " ".join(v.rnd.sample(MICROSCOPIC, 2))
    return (f"SURGICAL PATHOLOGY REPORT\nCLINICAL HISTORY: {history}\nSPECIMEN: {spec}\n"
            f"GROSS: Received in formalin labeled with the patient's "
            f"name, a {v.pick(('tan-pink', 'tan-brown', 'red-brown', 'gray-white'))} {v.pick(('segment', 'fragment', 'portion', 'aggregate'))} "
            f"measuring {size}. {v.pick(('Entirely submitted.', 'Representative sections submitted.', 'Submitted in 2 cassettes.'))}\n"
            f"MICROSCOPIC: {micro}\nDIAGNOSIS: {v.pick(PATH_DX)}.\nPathologist: {v.surname()}, MD")


def visit(v: Voice, s: Stay, emergency: bool) -> str:
    """A clinic or emergency visit outside a stay."""
    problems = S.conditions(v, s.present) + S.incidental(v, s, 3)
    drugs = S.home_drugs(v, s)
    p = (f"Vitals: BP {v.randint(100, 165)}/{v.randint(60, 98)}, HR {v.randint(58, 104)}, "
         f"Temp {round(v.rnd.uniform(36.2, 37.9), 1)}")
    if emergency:
        sym = v.pick([x for syms in DX_SYMPTOMS.values() for x in syms])
        return (f"{v.pick(('ED Provider Note', 'Emergency Department Note', 'ED Note'))}\nCC: {v.form('symptom:' + sym)}\n"
                f"HPI: {P.age_phrase(v, s.age, s.female)} presenting with {v.form('symptom:' + sym)}. "
                f"{S.pertinent_negatives(v, s, [sym], v.randint(2, 4))}\nPMH: {', '.join(problems) or 'none'}\n{p}\n"
                f"MDM: {v.pick(('Workup unremarkable.', 'Symptoms improved after treatment.', 'Low risk presentation.'))}"
                f" Discharged home with return precautions. -- {v.surname()}, MD")
    dept = v.pick(DEPT_WORDS[s.dept])
    return (f"{dept} Clinic Note\n{P.age_phrase(v, s.age, s.female)} seen for "
            f"{v.pick(('follow-up', 'routine visit', 'annual exam', 'medication review', 'new patient visit'))}.\n"
            f"Problems: {', '.join(problems) or 'none'}\nMedications: {'; '.join(drugs) or 'none'}\n{p}\n"
            f"Plan: {v.pick(('Follow up in 3 months.', 'Continue current medications.', 'Labs before next visit.', 'Refill medications; follow up in 6 months.', 'Return precautions reviewed.'))}"
            f" -- {v.surname()}, {v.pick(('MD', 'DO', 'NP'))}")
