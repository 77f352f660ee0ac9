"""The EHR export contract as data (README "Using your own data").

A site's SQL writes five tables; this module says which columns each must have, how each
column is typed once validated, which may be empty, which values are allowed, and how the
tables refer to each other. The validator (`validate.py`) and the MIMIC-III adapter
(`mimic3.py`) read everything they need from here, so the contract lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

# Typed output dtypes. Times are naive local date-times (what a site's SQL export holds);
# microseconds are enough for any EHR timestamp.
STR = pl.String
DATE = pl.Date
DATETIME = pl.Datetime("us")
INT = pl.Int64


@dataclass(frozen=True)
class Column:
    """One contract column."""

    name: str
    dtype: pl.DataType
    # Required columns must be present in the file's header; optional ones may be absent.
    required: bool = True
    # Whether an empty value is allowed; an empty value in a non-nullable column rejects the row.
    nullable: bool = False
    # Categorical columns are stripped and lowercased so "Inpatient " and "inpatient" agree.
    lowercase: bool = False
    # Closed vocabularies (only where the contract fixes the list); None keeps the column open.
    allowed: tuple[str, ...] | None = None
    # Free text is kept byte for byte (no stripping); everything else is whitespace-stripped.
    text: bool = False
    # Value written when an optional column is absent from the source (None: column omitted).
    default: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    target: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    # (earlier, later) date-time pairs that must be ordered, e.g. admission before discharge.
    ordered: tuple[tuple[str, str], ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_names(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


ENCOUNTER_CLASSES = ("inpatient", "observation", "emergency", "outpatient")
ICD_VERSIONS = ("icd10", "icd9")

TABLES: dict[str, Table] = {
    "patients": Table(
        "patients",
        (
            Column("patient_id", STR),
            Column("birth_date", DATE),
            Column("sex", STR, lowercase=True),
            # Demographics are often unrecorded; they only stratify the evaluation.
            Column("race", STR, nullable=True, lowercase=True),
            Column("ethnicity", STR, nullable=True, lowercase=True),
            Column("region", STR, nullable=True),
        ),
        primary_key=("patient_id",),
    ),
    "encounters": Table(
        "encounters",
        (
            Column("encounter_id", STR),
            Column("patient_id", STR),
            Column("site", STR),
            # Some systems (MIMIC-III among them) record no admitting department.
            Column("department", STR, nullable=True, lowercase=True),
            Column("encounter_class", STR, lowercase=True, allowed=ENCOUNTER_CLASSES),
            Column("admission_type", STR, nullable=True, lowercase=True),
            Column("admit_time", DATETIME),
            # Empty while the patient is still in hospital; tasks that need it skip such stays.
            Column("discharge_time", DATETIME, nullable=True),
            Column("discharge_disposition", STR, nullable=True, lowercase=True),
            Column("payer", STR, nullable=True, lowercase=True),
        ),
        primary_key=("encounter_id",),
        foreign_keys=(ForeignKey("patient_id", "patients", "patient_id"),),
        ordered=(("admit_time", "discharge_time"),),
    ),
    "notes": Table(
        "notes",
        (
            Column("note_id", STR),
            Column("patient_id", STR),
            # Notes outside an encounter (e.g. outpatient radiology) have none.
            Column("encounter_id", STR, nullable=True),
            Column("note_type", STR, lowercase=True),
            Column("note_time", DATETIME),
            # Empty text is the cleaning stage's to count (it drops short notes by reason).
            Column("text", STR, nullable=True, text=True),
            # One note may arrive as several narrative fields, joined in `part` order.
            Column("part", INT, required=False),
        ),
        primary_key=("note_id", "part"),
        foreign_keys=(
            ForeignKey("patient_id", "patients", "patient_id"),
            ForeignKey("encounter_id", "encounters", "encounter_id"),
        ),
    ),
    "diagnoses": Table(
        "diagnoses",
        (
            Column("encounter_id", STR),
            # Named for the contract's ICD-10-CM; holds ICD-9-CM codes when icd_version says so.
            Column("icd10_code", STR),
            Column("position", INT),  # 1 = principal diagnosis
            # Optional: "icd10" unless the source says otherwise (MIMIC-III writes "icd9"),
            # so comorbidity scoring picks the matching Charlson mapping.
            Column("icd_version", STR, required=False, lowercase=True, allowed=ICD_VERSIONS,
                   default="icd10"),
        ),
        primary_key=("encounter_id", "position"),
        foreign_keys=(ForeignKey("encounter_id", "encounters", "encounter_id"),),
    ),
    "claims": Table(
        "claims",
        (
            Column("claim_id", STR),
            Column("encounter_id", STR),
            Column("payer", STR, nullable=True, lowercase=True),
            # e.g. "paid", "final, adverse determination", "final, favorable determination".
            Column("status", STR, lowercase=True),
            Column("submitted_date", DATE),
            # Empty while the claim is pending.
            Column("determination_date", DATE, nullable=True),
        ),
        primary_key=("claim_id",),
        foreign_keys=(ForeignKey("encounter_id", "encounters", "encounter_id"),),
        ordered=(("submitted_date", "determination_date"),),
    ),
}

# Parents before children: foreign keys are checked against already-validated tables.
TABLE_ORDER: tuple[str, ...] = ("patients", "encounters", "notes", "diagnoses", "claims")

# table -> column -> polars dtype of the validated parquet (the public view of the contract).
CONTRACT: dict[str, dict[str, pl.DataType]] = {
    t.name: {c.name: c.dtype for c in t.columns} for t in TABLES.values()
}
