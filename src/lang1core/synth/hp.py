"""The admission history and physical: the note the mortality, LOS, Charlson and denial tasks
read. Written at admission, so it never says how the stay ended.

What it asserts (and so what the outcomes depend on): age, the problem list, code status,
the printed vitals and labs, new confusion, baseline function, living situation and
substance use, a planned procedure, the elements of medical necessity and, for elective
stays, prior authorisation. Everything else is how real H&Ps read: a narrative HPI, pertinent
negatives, family history, a review of systems, incidental problems, unrelated home
medications, identifiers and a signature.
"""

from __future__ import annotations

from lang1core.synth import phrasing as P
from lang1core.synth import sections as S
from lang1core.synth.catalog import DEPARTMENTS
from lang1core.synth.phrasing import Voice
from lang1core.synth.stay import Stay
from lang1core.synth.styles import header, style_of

DEPT_WORDS = {d.key: d.words for d in DEPARTMENTS}
# Symptoms each principal diagnosis presents with (lexicon "symptom:<id>").
DX_SYMPTOMS = {
    "J18.9": ("cough", "fever", "dyspnea"), "A41.9": ("fever", "chills", "weakness"), "N39.0": ("dysuria", "fever"),
    "J44.1": ("dyspnea", "wheezing", "cough"), "I50.23": ("leg_swelling", "dyspnea", "fatigue"),
    "K92.2": ("melena", "weakness", "dizziness"), "L03.115": ("rash", "fever"), "E87.1": ("weakness", "nausea"),
    "R55": ("syncope", "dizziness"), "E11.65": ("fatigue", "weight_loss"), "I21.4": ("chest_pain", "dyspnea"),
    "I48.91": ("palpitations", "dizziness"), "R07.9": ("chest_pain",), "K35.80": ("abdominal_pain", "nausea", "vomiting"),
    "K80.20": ("abdominal_pain", "nausea"), "K56.609": ("abdominal_pain", "vomiting"), "K57.32": ("abdominal_pain", "fever"),
    "S72.001A": ("falls",), "I63.9": ("weakness",), "G45.9": ("weakness", "dizziness"), "G40.909": ("seizure",),
    "G43.909": ("headache", "nausea"), "G93.40": ("fatigue",), "O13.9": ("headache",), "J21.9": ("cough", "wheezing"),
    "J45.901": ("wheezing", "dyspnea"), "A08.4": ("vomiting", "diarrhea"), "R50.9": ("fever",),
    "D70.1": ("fever", "chills"), "E86.0": ("poor_intake", "weakness"), "G89.3": ("back_pain",),
    "F32.2": ("insomnia", "anxiety"), "F20.9": ("anxiety",), "F10.239": ("anxiety", "insomnia"),
    "I69.351": ("weakness",), "N18.6": ("dyspnea", "leg_swelling"), "E87.5": ("weakness",),
    "Z51.5": ("back_pain", "poor_intake"), "U07.1": ("fever", "cough", "dyspnea"),
}
# How the A/P documents each element of medical necessity (lexicon "finding:<element>"), and
# how it says an element is not needed: the same concepts under negation.
NECESSITY_FRAMES = ("Requires {x}.", "Needs {x}.", "{X} required.", "Admitted for {x}.", "Plan: {x}.",
                    "Inpatient level of care for {x}.")
NOT_NEEDED_FRAMES = {
    "iv_therapy": ("No need for {x} at this time.", "Does not require {x}.", "{X} not indicated."),
    "monitoring": ("No indication for {x}.", "{X} not indicated.", "Does not require {x}."),
    "failed_outpatient": ("No history of {x}.", "Not a case of {x}; first presentation."),
    "two_midnights": ("{X} not expected.", "Short stay likely; {x} not anticipated."),
}
PLANS = ("DVT prophylaxis with enoxaparin.", "DVT ppx: heparin SQ.", "Diet: regular as tolerated.", "NPO after midnight.",
         "PT/OT evaluation.", "Trend labs in AM.", "Strict I/Os, daily weights.", "Pain control as needed.",
         "Fall precautions.", "Replete electrolytes as needed.", "Social work consult.", "Case management to follow.",
         "Continue home medications as appropriate.", "Blood cultures x2 pending.")
ED_TREATMENT = {"A41.9": "IV fluids and broad-spectrum antibiotics", "J18.9": "ceftriaxone and azithromycin",
                "I50.23": "IV furosemide", "J44.1": "nebulizers and steroids", "K92.2": "IV pantoprazole and a unit of "
                "blood", "I21.4": "aspirin and a heparin drip", "I48.91": "IV diltiazem", "N39.0": "ceftriaxone",
                "U07.1": "dexamethasone and supplemental oxygen", "E87.5": "calcium gluconate and insulin with dextrose"}
ORDINAL = ("first", "second", "third", "fourth", "fifth", "sixth")


def _hpi(v: Voice, s: Stay, name: str, positives: list[str]) -> str:
    subject = v.pick((name, "The patient", "Pt", "This patient", name))
    hist = S.conditions(v, s.present)
    v.rnd.shuffle(hist)
    history = (f"with a history of {v.listing(hist[:6])}" if hist else
               v.pick(("with no significant past medical history", "with no known medical problems",
                       "previously healthy")))
    symptoms = [v.form("symptom:" + x) for x in positives] or [v.pick(("worsening symptoms", "a planned procedure"))]
    days = v.randint(1, 10)
    out = [f"{subject} is a {P.age_phrase(v, s.age, s.female)} {history} who presents with {v.listing(symptoms)}"
           f" for {days} day{'s' if days > 1 else ''}."]
    for k in s.present[:3]:
        out.append(f"{P.cap(v.form('condition:' + k))} {v.pick(_CHRONIC)}.")
    for x in positives[:2]:
        out.append(f"{P.cap(v.form('symptom:' + x))} {v.pick(_CHARACTER)}, {v.pick(_MODIFY)}.")
    out.append(v.pick(("Symptoms have progressively worsened.", "Symptoms have been intermittent.",
                       "Onset was sudden.", "Gradual onset over the past several days.",
                       "Family brought the patient in because symptoms were not improving.")))
    if s.ams:
        out.append(v.pick(("Family reports new ", "Noted to have new ", "Per family, ")) + v.form("symptom:confusion") + ".")
    out.append(S.pertinent_negatives(v, s, positives, v.randint(4, 8)))
    out.append(v.pick(_EXPOSURES))
    neg = S.negated_history(v, s)
    if neg:
        out.append(neg)
    if s.prior_stays:
        out.append(f"This is the {ORDINAL[min(s.prior_stays, 5)]} hospitalization in the past year"
                   if v.chance(0.6) else f"Hospitalized {s.prior_stays} time{'s' if s.prior_stays > 1 else ''} in "
                   "the last 12 months")
        out[-1] += "."
    p = s.phys
    ed = [f"In the ED, T {p['temp_c']}, HR {int(p['hr'])}, BP {int(p['sbp'])}/{int(p['sbp'] * 0.6)}, "
          f"SpO2 {int(p['spo2'])}%."]
    ed.append(f"Labs notable for WBC {p['wbc']}, Na {int(p['sodium'])}, lactate {p['lactate']}.")
    if s.dx in ED_TREATMENT:
        ed.append(f"Received {ED_TREATMENT[s.dx]}.")
    ed += [v.pick(pool) for pool in _ED_COURSE if v.chance(0.7)]
    if v.chance(0.85):
        out += ed
    out += [v.pick(_NARRATIVE[i]) for i in range(len(_NARRATIVE)) if v.chance(0.55)]
    inc = S.incidental(v, s, 2)
    if inc:
        out.append(f"Of note, also followed for {v.listing(inc)}.")
    out.append(v.pick(("Reports adherence to home medications.", "Admits to missing several doses of medications.",
                       "Ran out of medications last week.", "Takes medications as prescribed per family.",
                       "Unsure of medication doses; pharmacy list reviewed.")))
    if 2020 <= s.year <= 2022:
        out.append("SARS-CoV-2 PCR positive." if s.covid else v.pick(("COVID-19 screen negative.",
                                                                      "SARS-CoV-2 PCR negative on arrival.",
                                                                      "COVID swab negative.")))
    return " ".join(out)


def _assessment(v: Voice, s: Stay) -> str:
    dx = v.form("diagnosis:" + s.dx)
    service = v.pick(DEPT_WORDS[s.dept])
    lines = [f"{P.age_phrase(v, s.age, s.female)} admitted to {service} for {dx}."]
    bullet = v.pick(("# ", "#", "- ", "1) "))
    plan = [v.pick(PLANS) for _ in range(v.randint(1, 3))]
    if s.procedure:
        plan.insert(0, v.pick(("Plan for ", "Scheduled for ", "Will proceed with ", "Consented for "))
                    + v.form("procedure:" + s.procedure) + ".")
    for e in ("iv_therapy", "monitoring", "failed_outpatient", "two_midnights"):
        if e in s.need or v.chance(0.2):
            x = v.form("finding:" + e)
            plan.append(v.pick(NECESSITY_FRAMES if e in s.need else NOT_NEEDED_FRAMES[e]).format(x=x, X=P.cap(x)))
    others = [d for d in _DEPT_DX.get(s.dept, ()) if d != s.dx]
    if others and v.chance(0.7):
        plan.insert(0, f"Differential includes {v.listing([v.form('diagnosis:' + d) for d in others[:2]], 'or')}"
                       f", {v.pick(('less likely', 'to be excluded', 'considered', 'felt unlikely'))}.")
    lines.append(f"{bullet}{dx}: " + " ".join(x for x in plan if x))
    for k in s.present:
        lines.append(f"{bullet}{v.form('condition:' + k)}: " + v.pick(("continue home regimen.", "stable, monitor.",
                                                                        "chronic, at baseline.", "hold for now.",
                                                                        "resume home meds when tolerating PO."))
                     + " " + v.pick(_FOLLOW))
    for term in S.incidental(v, s, 2):
        lines.append(f"{bullet}{term}: {v.pick(('chronic, stable.', 'outpatient follow-up.', 'no active issues.', 'continue home management.'))}")
    for k in s.possible:
        term = v.form("condition:" + k)
        lines.append(f"{bullet}{P.possible(v, term)}: " + v.pick(("will obtain imaging.", "workup in progress.",
                                                                   "check labs and follow.", "outpatient workup if stable.")))
    lines.append(f"{bullet}FEN/GI: {v.pick(_FEN)}")
    lines.append(f"{bullet}Prophylaxis: {v.pick(_PPX)}")
    lines.append(f"{bullet}Dispo: {v.pick(_DISPO)}")
    if not s.child and v.chance(0.6):
        lines.append(f"{bullet}HCP: {v.pick(('wife', 'husband', 'daughter', 'son', 'sister', 'friend'))} "
                     f"{v.surname()}, {P.phone(v)}")
    return "\n".join(lines)


_ED_COURSE = (
    ("Blood cultures were drawn prior to antibiotics.", "Two large-bore IVs were placed.", "Labs and cultures sent.",
     "Point-of-care glucose was checked."),
    ("Chest imaging was obtained and reviewed.", "Bedside ultrasound was performed by the ED team.",
     "CT was deferred pending renal function.", "EKG obtained on arrival and compared with prior."),
    ("Given a 1 L bolus of normal saline with modest response.", "Received acetaminophen and ondansetron.",
     "Home medications were held on arrival.", "Pain improved after IV morphine."),
    ("The admitting team was called for further management.", "Hospitalist asked to admit for ongoing care.",
     "Discussed with the on-call specialist, who will see the patient in the morning.",
     "Admission requested given failure to improve in the ED."),
)
_EXPOSURES = ("No recent travel, sick contacts or antibiotic use.", "No recent travel or hospitalizations outside "
              "this system.", "Denies sick contacts; no recent antibiotics.", "No travel; grandchildren recently ill.",
              "No known exposures.", "Works around others who have been sick.")
_CHRONIC = ("followed by PCP", "diagnosed several years ago", "well controlled on current regimen",
            "with recent medication changes", "managed by outside specialist", "stable per patient",
            "poorly controlled per recent clinic notes", "last evaluated a few months ago")
_DEPT_DX = {d.key: tuple(x[0] for x in d.diagnoses) for d in DEPARTMENTS}
_CHARACTER = ("has been constant", "comes and goes", "is worse with exertion", "is worse at night",
              "started gradually", "began abruptly", "is moderate in severity", "is described as severe")
_MODIFY = ("not relieved by rest", "partially improved with acetaminophen", "no clear aggravating factors",
           "worse when lying flat", "similar to prior episodes", "unlike anything experienced before",
           "associated with poor sleep", "limiting daily activities")
_FOLLOW = ("Will reassess daily.", "Monitor closely.", "Outpatient follow-up.", "Check levels in AM.", "Titrate as needed.",
           "Appreciate pharmacy input.", "Continue to follow.", "No changes today.")
ATTESTATION = ("I saw and examined the patient with the resident, reviewed the history, data and imaging, and agree "
               "with the findings and plan as documented above, with my edits.",
               "Patient seen and examined on the day of admission. Discussed with the house staff. I agree with the "
               "assessment and plan outlined above.",
               "Total time spent on the day of the encounter was more than 75 minutes, over half in counseling and "
               "coordination of care with the patient, family and consultants.",
               "Case discussed with the ED physician and the admitting team; plan reviewed with the patient, who "
               "agrees and had all questions answered.")
_NARRATIVE = (
    ("Was in usual state of health until the onset of symptoms.", "Had been doing well at home until recently.",
     "Recent decline noted by family over the past weeks.", "Symptoms first noticed after a recent viral illness."),
    ("Tried over-the-counter remedies without relief.", "Called PCP who advised ED evaluation.", "Was seen in urgent "
     "care and sent in for further evaluation.", "EMS was called by a neighbor.", "Came in by private vehicle."),
    ("Reports decreased oral intake over the past few days.", "Has been sleeping more than usual.", "Reports mild "
     "generalized malaise.", "Has had difficulty with stairs at home.", "Appetite has been fair."),
    ("Last seen by PCP several months ago.", "Follows with outside specialists; records requested.", "Recent "
     "outpatient labs not available.", "Medication reconciliation completed with pharmacy records."),
    ("History obtained from the patient and family at bedside.", "History limited by patient's condition; "
     "supplemented by chart review.", "Interpreter used for the interview.", "History per patient, who is a reliable "
     "historian."),
)
_FEN = ("regular diet, replete lytes PRN", "NPO for now, IVF at 75 mL/h", "cardiac diet, fluid restriction 1.5 L",
        "diabetic diet, monitor FSBG AC/HS", "clear liquids, advance as tolerated", "renal diet")
_PPX = ("enoxaparin SQ, PPI not indicated", "heparin SQ TID", "SCDs given bleeding risk", "ambulation, SCDs",
        "enoxaparin 40 mg daily")
_DISPO = ("pending clinical improvement", "home when stable", "anticipate home with services", "PT/OT to assess needs",
          "likely needs placement, CM consulted", "to be determined")


def _code(v: Voice, s: Stay) -> str:
    if s.dnr:
        return P.cap(v.form("finding:dnr")) + v.pick(("", "", " - confirmed with patient", " per MOLST"))
    full = P.cap(v.form("finding:full_code"))
    if s.dnr_discussed:
        dnr = v.form("finding:dnr")
        return v.pick((f"{full} ({dnr} discussed; patient wishes to remain full code)",
                       f"{full} after goals of care discussion; declines {dnr}",
                       f"{full} - {dnr} discussed with family, not desired"))
    return full


def _payer(v: Voice, s: Stay) -> str:
    out = f"Primary: {S.payer_words(v, s.payer)}."
    if s.elective and not s.no_auth:
        out += " " + v.pick((f"Prior authorization obtained (ref {v.randint(100000, 999999)}).", "Auth on file.",
                             "Precertification approved by payer."))
    return out


def render(v: Voice, s: Stay) -> tuple[str, str]:
    """(note text, its HPI: the discharge summary copies it forward)."""
    style = style_of(s.site, s.year)
    first, last = P.patient_name(s.name_u, s.female)
    name = v.pick((f"{'Ms.' if s.female else 'Mr.'} {last}", f"{first} {last}", f"{'Mrs.' if s.female else 'Mr.'} {last}"))
    if s.child:
        name = first
    positives = list(DX_SYMPTOMS.get(s.dx, ()))
    sections = {
        "cc": v.form("symptom:" + positives[0]) if positives else v.form("diagnosis:" + s.dx),
        "hpi": _hpi(v, s, name, positives),
        "pmh": S.problem_list(v, s, bullets=v.chance(0.5)),
        "psh": v.listing([v.form(v.pick(_PSH)) for _ in range(v.randint(1, 3))]) if s.age > 20 else "None",
        "meds": S.medication_list(v, S.home_drugs(v, s)),
        "allergies": S.allergies(v),
        "social": S.social(v, s),
        "family": S.family_history(v, s),
        "ros": S.review_of_systems(v, s, positives + (["confusion"] if s.ams else [])),
        "vitals": S.vitals(v, s.phys, style.vitals_format, style.fahrenheit),
        "exam": S.exam(v, s),
        "labs": S.labs(v, s.phys, style.labs_format, style.creat_umol) + ("\n" + S.extra_labs(v) if v.chance(0.8) else ""),
        "imaging": v.pick(_IMAGING),
        "ap": _assessment(v, s),
        "code": _code(v, s),
        "payer": _payer(v, s),
    }
    body = []
    for key in style.hp_order:
        # Code status and payer are always stated somewhere; the rest of the optional sections
        # come and go with the writer.
        if key in style.optional_p and key not in ("code", "payer") and not v.chance(style.optional_p[key]):
            continue
        body.append(header(style, key, v.pick) + sections[key])
    if v.chance(0.6):
        body.append(f"Outpatient providers: PCP Dr. {v.surname()}; {v.pick(_SPECIALTY)} Dr. {v.surname()}.")
    top = (f"{style.hp_title}\nPatient: {last.upper()}, {first}   MRN: {P.mrn(s.name_u)}   DOB: "
           f"{P.date(v, s.birth)}\nAdmission date: {P.date(v, s.admit)}   Attending: Dr. {v.surname()}")
    if v.chance(0.75):
        body.append(v.pick(ATTESTATION))
    sign = (f"{v.pick(('Electronically signed by', 'Signed:', 'Dictated by', '--'))} Dr. {v.surname()}, MD "
            f"{v.pick(('pager', 'pgr', 'contact'))} {P.phone(v)}")
    return "\n\n".join([top] + body + [sign]), sections["hpi"]


_SPECIALTY = ("cardiologist", "nephrologist", "endocrinologist", "oncologist", "pulmonologist", "neurologist")
_PSH = ("procedure:appendectomy", "procedure:cholecystectomy", "procedure:cesarean_section", "procedure:knee_arthroplasty",
        "procedure:hip_arthroplasty", "procedure:colonoscopy", "procedure:cardiac_cath", "procedure:endoscopy")
_IMAGING = ("CXR: no acute cardiopulmonary process.", "CXR with bibasilar opacities.", "CT head without acute "
            "intracranial abnormality.", "CT abdomen/pelvis pending.", "EKG: sinus rhythm, no acute ST changes.",
            "EKG sinus tachycardia.", "Ultrasound pending.", "No imaging yet.", "CXR: small left effusion.")
