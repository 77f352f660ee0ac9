"""The discharge summary: the note the readmission task reads. Written at discharge, so it
never mentions what happens after.

What it asserts for readmission: the problem list, the hospital course's events, the length
of stay, the last labs, the discharge medications (insulin and anticoagulants among them),
living situation and substance use, disposition and whether follow-up was arranged. It
copies the H&P's presentation forward (including facts that went stale during the stay) and
mentions events that did not happen, negated, as real summaries do.
"""

from __future__ import annotations

from lang1core.synth import phrasing as P
from lang1core.synth import sections as S
from lang1core.synth.catalog import DISPOSITION_WORDS
from lang1core.synth.hp import DEPT_WORDS
from lang1core.synth.phrasing import Voice
from lang1core.synth.stay import Stay
from lang1core.synth.styles import header, style_of

EVENT_SENTENCES = ("Course complicated by {x}, {m}.", "Hospital course was notable for {x}; {m}.",
                   "On hospital day {d} developed {x}, {m}.", "Complicated by {x} ({m}).", "{X} on day {d}, {m}.")
MANAGED = ("which resolved", "managed supportively", "treated and improved", "requiring treatment", "now resolved",
           "improving at discharge", "addressed with the primary team")
NEGATED_EVENT = ("No {x} during the admission.", "No episodes of {x}.", "{X} was ruled out.", "Without {x}.",
                 "Negative for {x}.")
FOLLOWUP = ("PCP Dr. {n} in 1 week.", "Follow up with Dr. {n} on {date}.", "Clinic appointment with {n} within "
            "7 days.", "Appointment scheduled with Dr. {n}, {date}.", "See cardiology (Dr. {n}) in 2 weeks.")
NO_FOLLOWUP = ("{X}; patient declined.", "{X}: no working phone.", "{X} at time of discharge.",
               "Patient to call for appointment; {x}.", "{X}.")


def _course(v: Voice, s: Stay) -> str:
    service = v.pick(DEPT_WORDS[s.dept])
    out = [f"{P.age_phrase(v, s.age, s.female)} admitted to {service} with {v.form('diagnosis:' + s.dx)}."]
    if s.procedure:
        out.append(f"Underwent {v.form('procedure:' + s.procedure)} on hospital day {v.randint(1, max(1, s.los_days))}.")
    treated = v.pick(("Treated with", "Managed with", "Received", "Started on"))
    out.append(f"{treated} {v.pick(('IV antibiotics', 'diuresis', 'supportive care', 'IV fluids', 'pain control', 'steroids'))}"
               f" with {v.pick(('gradual improvement', 'clinical improvement', 'slow improvement', 'good response'))}.")
    for e in s.events:
        x = v.form("event:" + e)
        out.append(v.pick(EVENT_SENTENCES).format(x=x, X=P.cap(x), m=v.pick(MANAGED),
                                                  d=v.randint(1, max(1, s.los_days))))
    for e in s.negated_events:
        x = v.form("event:" + e)
        out.append(v.pick(NEGATED_EVENT).format(x=x, X=P.cap(x)))
    for k in s.possible:
        out.append(f"{P.cap(v.form('condition:' + k))} was {v.pick(('considered', 'evaluated', 'worked up'))}"
                   f"{v.pick(('; workup negative', '; not confirmed', ', results pending', ''))}.")
    if s.expired:
        out.append("Despite treatment the patient's condition declined. Patient expired on "
                   f"{P.date(v, s.discharge)}.")
    else:
        out.append(v.pick(("Stable for discharge.", "Tolerating diet, ambulating, stable for discharge.",
                           "Medically stable for discharge.", "Afebrile, vitals stable, ready for discharge.")))
    return " ".join(out)


def _dc_labs(v: Voice, s: Stay, umol: bool) -> str:
    d = s.dc_labs
    creat = int(round(d["creat"] * 88.4)) if umol else d["creat"]
    return v.pick((f"Hgb {d['hgb']}, Na {int(d['sodium'])}, Cr {creat}.",
                   f"Hemoglobin {d['hgb']} | Sodium {int(d['sodium'])} | Creatinine {creat}",
                   f"Last labs: Na {int(d['sodium'])}, Cr {creat}, Hgb {d['hgb']}."))


def _planning(v: Voice, s: Stay) -> str:
    return S.social(v, s) + " " + v.pick(("Case management involved.", "SW met with patient.", "", "Home safety "
                                          "reviewed.", "Transportation arranged."))


def _followup(v: Voice, s: Stay) -> str:
    if s.expired:
        return "n/a"
    if s.no_followup:
        x = v.form("finding:no_followup")
        return v.pick(NO_FOLLOWUP).format(x=x, X=P.cap(x))
    return v.pick(FOLLOWUP).format(n=v.surname(), date=P.date(v, P.days_after(s.discharge, v.randint(5, 14))))


def render(v: Voice, s: Stay, presentation: str) -> str:
    style = style_of(s.site, s.year)
    first, last = P.patient_name(s.name_u, s.female)
    drugs = [] if s.expired else S.home_drugs(v, s)
    sections = {
        "dates": f"Admitted {P.date(v, s.admit)}, discharged {P.date(v, s.discharge)} "
                 f"({s.los_days} day{'s' if s.los_days != 1 else ''}).",
        "dx": v.form("diagnosis:" + s.dx),
        "secondary": S.problem_list(v, s, bullets=v.chance(0.5)),
        "presentation": presentation,
        "course": _course(v, s),
        "procedures": v.form("procedure:" + s.procedure) if s.procedure else "None",
        "dc_labs": _dc_labs(v, s, style.creat_umol),
        "dispo": v.pick(DISPOSITION_WORDS[s.disposition]),
        "code": P.cap(v.form("finding:dnr" if s.dnr else "finding:full_code")),
        "dmeds": S.medication_list(v, drugs) if not s.expired else "None",
        "planning": _planning(v, s),
        "followup": _followup(v, s),
    }
    body = []
    for key in style.ds_order:
        # What readmission depends on is always there; the presentation, procedures and code
        # status come and go with the writer.
        if key in ("presentation", "procedures", "code") and not v.chance(style.optional_p[key]):
            continue
        body.append(header(style, key, v.pick) + sections[key])
    top = f"{style.ds_title}\nPatient: {last.upper()}, {first}   MRN: {P.mrn(s.name_u)}   DOB: {P.date(v, s.birth)}"
    sign = f"{v.pick(('Electronically signed by', 'Signed:', 'Dictated by'))} Dr. {v.surname()}, MD"
    return "\n\n".join([top] + body + [sign])
