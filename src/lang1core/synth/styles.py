"""Documentation styles: how each site, in each template era, lays out its H&Ps and discharge
summaries: titles, section headers, section order, which optional sections the template has,
units and number formats.

Every site changed its EHR template at least once (TEMPLATE_CHANGE) and two sites migrated
again in 2024, the drift a model must survive. A style is derived from a seeded draw per
(site, era), so styles differ without a hand-written table per site; within a style each note
still picks among a few header spellings and leaves some optional sections out, as clinicians
do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

HEADERS = {
    "cc": ("Chief Complaint", "CC", "Reason for Admission", "Chief complaint", "Presenting Complaint"),
    "hpi": ("History of Present Illness", "HPI", "History of present illness", "Subjective", "Interval History"),
    "pmh": ("Past Medical History", "PMH", "Problem List", "Active Problems", "PMHx", "Medical History"),
    "psh": ("Past Surgical History", "PSH", "Surgical History", "PSHx"),
    "meds": ("Medications", "Home Medications", "Meds", "Outpatient Medications", "Current Medications",
             "Prior to Admission Medications"),
    "allergies": ("Allergies", "ALL", "Drug Allergies", "Allergies/Intolerances"),
    "social": ("Social History", "SH", "Social Hx", "Social"),
    "family": ("Family History", "FH", "Family Hx", "FHx"),
    "ros": ("Review of Systems", "ROS", "Review of systems"),
    "vitals": ("Vital Signs", "Vitals", "VS", "Objective", "Admission Vitals"),
    "exam": ("Physical Exam", "PE", "Physical Examination", "Exam", "Examination"),
    "labs": ("Labs", "Laboratory Data", "Pertinent Labs", "Data", "Lab Results"),
    "imaging": ("Imaging", "Radiology", "Studies", "Diagnostics"),
    "ap": ("Assessment and Plan", "A/P", "Assessment & Plan", "Impression/Plan", "Assessment/Plan", "Plan"),
    "code": ("Code Status", "Code", "Resuscitation Status", "Advance Directives"),
    "payer": ("Insurance", "Payer", "Utilization Review", "Coverage", "Financial Class"),
    "dates": ("Dates", "Admission Dates", "Dates of Service"),
    "dx": ("Principal Diagnosis", "Discharge Diagnosis", "Primary Diagnosis", "Dx", "Diagnoses"),
    "secondary": ("Secondary Diagnoses", "Other Diagnoses", "Comorbidities", "Chronic Problems"),
    "presentation": ("Presentation", "History of Present Illness", "Reason for Hospitalization", "Brief HPI"),
    "course": ("Hospital Course", "Brief Hospital Course", "Course", "Hospital Course by Problem"),
    "procedures": ("Procedures", "Procedures Performed", "Operations/Procedures"),
    "dc_labs": ("Discharge Labs", "Labs at Discharge", "Pertinent Results", "Last Labs"),
    "dispo": ("Disposition", "Discharge Disposition", "Dispo", "Discharged To"),
    "dmeds": ("Discharge Medications", "D/C Meds", "Medications at Discharge", "Discharge Med List"),
    "planning": ("Discharge Planning", "Care Coordination", "Social Work", "Transitions of Care"),
    "followup": ("Follow-up", "Follow Up", "F/U", "Follow-up Appointments", "Outpatient Follow-up"),
}
HP_TITLES = ("ADMISSION HISTORY AND PHYSICAL", "History & Physical", "H&P", "Admission Note", "ADMISSION H&P",
             "HISTORY AND PHYSICAL EXAMINATION", "Hospital Admission H&P", "Admission History and Physical",
             "H&P NOTE", "Medicine Admission Note")
DS_TITLES = ("DISCHARGE SUMMARY", "Discharge Summary", "D/C SUMMARY", "Discharge Note", "HOSPITAL DISCHARGE SUMMARY",
             "Hospital Course Summary", "DISCHARGE SUMMARY - INPATIENT")
HP_CORE = ("cc", "hpi", "pmh", "meds", "social", "vitals", "exam", "labs", "ap")
HP_OPTIONAL = ("psh", "allergies", "family", "ros", "imaging", "code", "payer")
DS_CORE = ("dates", "dx", "course", "dispo", "dmeds", "followup")
DS_OPTIONAL = ("secondary", "presentation", "procedures", "dc_labs", "code", "planning")

# Year each site switched templates, and sites that migrated EHRs again in 2024.
TEMPLATE_CHANGE = (2012, 2015, 2010, 2018)
MIGRATION_2024 = (1, 2)


@dataclass(frozen=True)
class Style:
    hp_title: str
    ds_title: str
    headers: dict[str, tuple[str, ...]]  # section -> the spellings this template uses
    hp_order: tuple[str, ...]
    ds_order: tuple[str, ...]
    optional_p: dict[str, float]  # optional section -> share of notes that have it
    fahrenheit: bool
    creat_umol: bool  # creatinine in umol/L instead of mg/dL
    vitals_format: int
    labs_format: int
    sep: str  # between header and body
    upper_headers: bool


def era_of(site: int, year: int) -> int:
    s = site % len(TEMPLATE_CHANGE)
    return int(year >= TEMPLATE_CHANGE[s]) + int(year >= 2024 and s in MIGRATION_2024)


@cache
def style_of(site: int, year: int) -> Style:
    s, era = site % len(TEMPLATE_CHANGE), era_of(site, year)
    r = random.Random(1000 * s + era)
    headers = {k: tuple(r.sample(v, min(len(v), r.choice((1, 2, 2, 3))))) for k, v in HEADERS.items()}

    def order(core, optional, anchor_first, anchor_last):
        body = [k for k in core + optional if k not in (anchor_first, anchor_last)]
        # Neighbouring sections swap places: templates agree on the gist, not the order.
        for i in range(len(body) - 1):
            if r.random() < 0.3:
                body[i], body[i + 1] = body[i + 1], body[i]
        return (anchor_first,) + tuple(body) + (anchor_last,)

    return Style(
        hp_title=r.choice(HP_TITLES), ds_title=r.choice(DS_TITLES), headers=headers,
        hp_order=order(HP_CORE, HP_OPTIONAL, "cc", "ap"), ds_order=order(DS_CORE, DS_OPTIONAL, "dates", "followup"),
        optional_p={k: r.choice((0.5, 0.7, 0.85, 0.95)) for k in HP_OPTIONAL + DS_OPTIONAL},
        fahrenheit=s == 1 or (s == 3 and era == 0), creat_umol=s == 2 and era == 2,
        vitals_format=r.randrange(4), labs_format=r.randrange(3), sep=r.choice((": ", ":\n", ":\n")),
        upper_headers=r.random() < 0.4,
    )


def header(style: Style, key: str, pick) -> str:
    h = pick(style.headers[key])
    return (h.upper() if style.upper_headers else h) + style.sep
