"""Documentation styles: how each site (and each template era) writes an H&P and a discharge
summary. Sites differ in headers, section order, units and how much they abbreviate; every
site changed its template at least once (the drift a model must survive).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    hp_title: str
    ds_title: str
    headers: dict[str, str]  # section key -> header text
    hp_order: tuple[str, ...]
    ds_order: tuple[str, ...]
    fahrenheit: bool = False
    # > 1 picks abbreviations (listed first in the catalogue) more often.
    abbreviate: float = 1.0
    sep: str = ": "  # between header and body


_BASE_HEADERS = dict(cc="Chief Complaint", hpi="History of Present Illness", pmh="Past Medical History",
                     meds="Medications", social="Social History", code="Code Status", vitals="Vital Signs",
                     labs="Labs", exam="Physical Exam", ap="Assessment and Plan", payer="Insurance",
                     dates="Dates", dx="Principal Diagnosis", secondary="Secondary Diagnoses",
                     course="Hospital Course", dispo="Disposition", dmeds="Discharge Medications",
                     followup="Follow-up", planning="Discharge Planning")
_ABBR_HEADERS = dict(_BASE_HEADERS, cc="CC", hpi="HPI", pmh="PMH", meds="Meds", social="SH", code="Code",
                     vitals="VS", exam="PE", ap="A/P", payer="Ins", dx="Dx", secondary="Other Dx",
                     course="Course", dispo="Dispo", dmeds="D/C Meds", followup="F/U", planning="D/C Planning")

_HP = ("cc", "hpi", "pmh", "meds", "social", "code", "vitals", "labs", "exam", "ap")
_DS = ("dates", "dx", "secondary", "course", "dispo", "code", "dmeds", "planning", "followup")

# STYLES[site][era]: era 0 before the site's template change, era 1 after.
STYLES: tuple[tuple[Style, Style], ...] = (
    (Style("ADMISSION HISTORY AND PHYSICAL", "DISCHARGE SUMMARY", _BASE_HEADERS, ("payer",) + _HP, _DS),
     Style("History & Physical", "Discharge Summary", dict(_BASE_HEADERS, ap="Assessment & Plan"),
           ("payer", "cc", "hpi", "pmh", "meds", "social", "vitals", "labs", "exam", "ap", "code"), _DS)),
    (Style("H&P", "D/C SUMMARY", _ABBR_HEADERS, ("payer", "cc", "hpi", "pmh", "social", "meds", "vitals",
                                                "labs", "exam", "ap", "code"), _DS, fahrenheit=True, abbreviate=3.0),
     Style("H&P NOTE", "DISCHARGE SUMMARY", _ABBR_HEADERS, ("payer",) + _HP,
           ("dates", "dx", "course", "secondary", "dmeds", "dispo", "code", "planning", "followup"),
           fahrenheit=True, abbreviate=2.0)),
    (Style("Admission Note", "Discharge Note", dict(_BASE_HEADERS, pmh="Problem List", ap="Impression/Plan"),
           ("cc", "hpi", "pmh", "meds", "social", "vitals", "labs", "exam", "ap", "code", "payer"), _DS,
           abbreviate=0.6, sep=":\n"),
     Style("ADMISSION H&P", "DISCHARGE SUMMARY", dict(_BASE_HEADERS, pmh="Active Problems", ap="Impression/Plan"),
           ("payer", "cc", "hpi", "pmh", "meds", "vitals", "labs", "exam", "social", "ap", "code"), _DS,
           abbreviate=0.8, sep=":\n")),
    (Style("HISTORY AND PHYSICAL EXAMINATION", "HOSPITAL DISCHARGE SUMMARY", _BASE_HEADERS, ("payer",) + _HP,
           _DS, abbreviate=1.5),
     Style("Hospital Admission H&P", "Discharge Summary", dict(_ABBR_HEADERS, ap="Assessment/Plan"),
           ("payer", "cc", "hpi", "vitals", "labs", "pmh", "meds", "social", "exam", "ap", "code"), _DS,
           abbreviate=2.0)),
)
# Year each site switched templates.
TEMPLATE_CHANGE = (2012, 2015, 2010, 2018)


def style_of(site: int, year: int) -> Style:
    s = site % len(STYLES)
    return STYLES[s][int(year >= TEMPLATE_CHANGE[s])]
