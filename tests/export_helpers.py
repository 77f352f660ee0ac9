"""A tiny valid export (lang1core.export.contract) that tests corrupt one thing at a time."""

from __future__ import annotations

import csv
from pathlib import Path

HEADERS = {
    "patients": ["patient_id", "birth_date", "sex", "race", "ethnicity", "region"],
    "encounters": ["encounter_id", "patient_id", "site", "department", "encounter_class",
                   "admission_type", "admit_time", "discharge_time", "discharge_disposition", "payer"],
    "notes": ["note_id", "patient_id", "encounter_id", "note_type", "note_time", "text"],
    "diagnoses": ["encounter_id", "icd10_code", "position"],
    "claims": ["claim_id", "encounter_id", "payer", "status", "submitted_date", "determination_date"],
}


def valid_rows() -> dict[str, list[list[str]]]:
    return {
        "patients": [
            ["P1", "1950-02-03", "female", "white", "not hispanic", "north"],
            ["P2", "2015-07-30", "male", "black", "not hispanic", "south"],
            ["P3", "1988-11-11", "female", "", "", ""],
        ],
        "encounters": [
            ["E1", "P1", "site_a", "medicine", "inpatient", "emergency",
             "2021-03-01T08:15:00", "2021-03-05T12:00:00", "home", "medicare"],
            ["E2", "P2", "site_b", "pediatrics", "Inpatient", "elective",
             "2022-01-10 09:00", "2022-01-12 10:30", "home_health", "medicaid"],
            ["E3", "P3", "site_a", "emergency", "emergency", "emergency",
             "2023-05-05T22:00:00", "", "", "commercial"],
        ],
        "notes": [
            ["N1", "P1", "E1", "history_and_physical", "2021-03-01T09:00:00",
             'HPI: 71F with CHF, "worse dyspnea".\nPlan: diuresis, daily weights.'],
            ["N2", "P1", "E1", "discharge_summary", "2021-03-05T11:00:00", "Discharged home, stable."],
            ["N3", "P2", "E2", "History_and_Physical", "2022-01-10T10:00:00", "6M, asthma exacerbation."],
            ["N4", "P3", "", "radiology", "2023-05-06T01:00:00", "CXR: no acute process."],
        ],
        "diagnoses": [["E1", "I50.9", "1"], ["E1", "E11.9", "2"], ["E2", "J45.901", "1"]],
        "claims": [
            ["C1", "E1", "medicare", "paid", "2021-03-10", "2021-04-01"],
            ["C2", "E2", "medicaid", "final, adverse determination", "2022-01-20", "2022-03-01"],
        ],
    }


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def make_export(folder: Path, rows: dict | None = None, headers: dict | None = None) -> Path:
    """Write the tiny export (optionally with some tables' rows or headers replaced) as CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = {**valid_rows(), **(rows or {})}
    headers = {**HEADERS, **(headers or {})}
    for table, header in headers.items():
        write_csv(folder / f"{table}.csv", header, rows[table])
    return folder
