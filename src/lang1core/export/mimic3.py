"""MIMIC-III onto the export contract (docs/architecture.md#export-tables, docs/study.md#mimic-iii).

Maps the published layout of NOTEEVENTS, ADMISSIONS, PATIENTS and DIAGNOSES_ICD (.csv or
.csv.gz, upper- or lower-case names as in the full release and the demo) to the five
contract tables, as strings; the validator then types and checks them like any export.

- Notes marked ISERROR (a clinician flagged them as wrong) are dropped and counted.
- Diagnoses keep their ICD-9-CM codes as published (no dots) with icd_version = "icd9",
  so comorbidity scoring uses the ICD-9 Charlson mapping.
- MIMIC-III holds no claims: an empty claims table with the contract's columns is written.
- HOSPITAL_EXPIRE_FLAG = 1 or a DEATHTIME makes the disposition "expired".
- Every admission is an inpatient stay (encounter_class "inpatient"); MIMIC has one site
  ("mimic3") and no admitting department (left empty).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import polars as pl

from lang1core.export.contract import TABLES
from lang1core.export.reading import BROKEN, ExportSchemaError, TableSource, open_table
from lang1core.private_files import make_private, private_umask
from lang1core.publish import published_file, write_json

log = logging.getLogger(__name__)

SITE = "mimic3"
# Columns each source file must carry (of the published layout; others are ignored).
NEEDED = {
    "PATIENTS": ["SUBJECT_ID", "GENDER", "DOB"],
    "ADMISSIONS": ["SUBJECT_ID", "HADM_ID", "ADMITTIME", "DISCHTIME", "DEATHTIME", "ADMISSION_TYPE",
                   "DISCHARGE_LOCATION", "INSURANCE", "ETHNICITY", "HOSPITAL_EXPIRE_FLAG"],
    "NOTEEVENTS": ["ROW_ID", "SUBJECT_ID", "HADM_ID", "CHARTDATE", "CHARTTIME", "CATEGORY",
                   "DESCRIPTION", "ISERROR", "TEXT"],
    "DIAGNOSES_ICD": ["HADM_ID", "SEQ_NUM", "ICD9_CODE"],
}

# NOTEEVENTS.CATEGORY (stripped, lowercased; several carry a trailing space in the release)
# -> contract note_type. Unlisted categories keep their name in snake_case.
NOTE_TYPES = {
    "discharge summary": "discharge_summary",
    "physician": "progress",
    "nursing": "nursing",
    "nursing/other": "nursing",
    "radiology": "radiology",
    "ecg": "ecg",
    "echo": "echo",
    "respiratory": "respiratory",
    "nutrition": "nutrition",
    "general": "general",
    "rehab services": "rehab",
    "social work": "social_work",
    "case management": "case_management",
    "pharmacy": "pharmacy",
    "consult": "consult",
}
# Physician/General notes whose DESCRIPTION says they are the admission work-up are the
# study's H&P (e.g. "Physician Resident Admission Note", "H&P").
HP_PATTERN = r"(?i)admission note|h\s*&\s*p|history and physical"

# ADMISSIONS.DISCHARGE_LOCATION -> contract discharge_disposition.
DISPOSITIONS = {
    "HOME": "home",
    "HOME HEALTH CARE": "home_health",
    "HOME WITH HOME IV PROVIDR": "home_health",
    "SNF": "snf",
    "SNF-MEDICAID ONLY CERTIF": "snf",
    "REHAB/DISTINCT PART HOSP": "rehab",
    "HOSPICE-HOME": "hospice",
    "HOSPICE-MEDICAL FACILITY": "hospice",
    "LEFT AGAINST MEDICAL ADVI": "ama",
    "DEAD/EXPIRED": "expired",
    "LONG TERM CARE HOSPITAL": "ltach",
    "SHORT TERM HOSPITAL": "transfer",
    "DISC-TRAN CANCER/CHLDRN H": "transfer",
    "DISC-TRAN TO FEDERAL HC": "transfer",
    "DISCH-TRAN TO PSYCH HOSP": "psychiatric",
    "ICF": "icf",
    "OTHER FACILITY": "other_facility",
}
SEX = {"M": "male", "F": "female"}


def _find(mimic_dir: Path, name: str) -> Path:
    for stem in (name, name.lower()):
        for suffix in (".csv", ".csv.gz"):
            if (mimic_dir / f"{stem}{suffix}").is_file():
                return mimic_dir / f"{stem}{suffix}"
    raise ExportSchemaError([f"MIMIC-III: no {name}.csv or {name}.csv.gz in {mimic_dir}"])


def _open(mimic_dir: Path, name: str, staging: Path, counts: dict) -> pl.LazyFrame:
    """A MIMIC file as strings with upper-case column names; malformed records dropped and counted."""
    src: TableSource = open_table(_find(mimic_dir, name), name, staging / name, check=False)
    upper = {h: h.upper() for h in src.header}
    missing = [c for c in NEEDED[name] if c not in upper.values()]
    if missing:
        raise ExportSchemaError([f"{src.file.name}: missing MIMIC-III column(s) {missing}"])
    lf = src.frame.rename(upper)
    bad = lf.filter(pl.col(BROKEN).is_not_null()).select(pl.len()).collect().item() if src.recovered else 0
    counts[name] = {"read": src.n_rows, "malformed_dropped": bad, "problems": src.problems}
    if bad:
        log.warning("%s: %d malformed record(s) dropped: %s", src.file.name, bad, src.problems[:3])
    return lf.filter(pl.col(BROKEN).is_null())


def _strip(c: str) -> pl.Expr:
    e = pl.col(c).str.strip_chars()
    return pl.when(e.str.len_bytes() == 0).then(None).otherwise(e)


def note_type(category: pl.Expr, description: pl.Expr) -> pl.Expr:
    cat = category.str.strip_chars().str.to_lowercase()
    mapped = cat.replace_strict(NOTE_TYPES, default=cat.str.replace_all(r"[^a-z0-9]+", "_"))
    is_hp = cat.is_in(["physician", "general", "consult"]) & description.str.contains(HP_PATTERN).fill_null(False)
    return pl.when(is_hp).then(pl.lit("history_and_physical")).otherwise(mapped)


def disposition(location: pl.Expr, expire_flag: pl.Expr, deathtime: pl.Expr) -> pl.Expr:
    loc = location.str.strip_chars()
    mapped = loc.replace_strict(DISPOSITIONS, default=loc.str.to_lowercase())
    died = ((expire_flag.str.strip_chars() == "1").fill_null(False)
            | deathtime.str.strip_chars().str.len_bytes().gt(0).fill_null(False))
    # HOSPITAL_EXPIRE_FLAG = 0 says the patient left alive even where the destination is blank;
    # only a stay with neither stays without a disposition (and so without a mortality label).
    alive = (expire_flag.str.strip_chars() == "0").fill_null(False)
    blank = loc.is_null() | (loc.str.len_bytes() == 0)
    return (pl.when(died).then(pl.lit("expired")).when(blank & alive).then(pl.lit("discharged alive"))
            .when(blank).then(pl.lit(None, pl.String)).otherwise(mapped))


def race_of(e: pl.Expr) -> pl.Expr:
    """Broad race from MIMIC's ETHNICITY (e.g. "WHITE - RUSSIAN" -> white); Hispanic-only or unknown -> null."""
    up = e.str.to_uppercase()
    return (pl.when(up.str.contains("UNKNOWN|UNABLE|DECLINED") | up.is_null()).then(pl.lit(None, pl.String))
            .when(up.str.contains("MULTI")).then(pl.lit("multiple"))
            .when(up.str.contains("WHITE|PORTUGUESE")).then(pl.lit("white"))
            .when(up.str.contains("BLACK")).then(pl.lit("black"))
            .when(up.str.contains("ASIAN")).then(pl.lit("asian"))
            .when(up.str.contains("AMERICAN INDIAN")).then(pl.lit("american indian or alaska native"))
            .when(up.str.contains("HAWAIIAN|PACIFIC")).then(pl.lit("native hawaiian or pacific islander"))
            .when(up.str.contains("HISPANIC")).then(pl.lit(None, pl.String))
            .otherwise(pl.lit("other")))


def ethnicity_of(e: pl.Expr) -> pl.Expr:
    """MIMIC's single ETHNICITY field holds both race and Hispanic origin; split them."""
    up = e.str.to_uppercase()
    return (pl.when(up.str.contains("HISPANIC")).then(pl.lit("hispanic"))
            .when(up.str.contains("UNKNOWN|UNABLE|DECLINED") | up.is_null()).then(pl.lit(None, pl.String))
            .otherwise(pl.lit("not hispanic")))


def convert_mimic3(mimic_dir: str | Path, out_dir: str | Path) -> dict:
    """Write patients, encounters, notes, diagnoses and claims (.parquet, strings) to `out_dir`.

    Returns (and writes to `out_dir/adapter_report.json`) the counts: rows read per source
    file, ISERROR notes dropped, malformed records dropped, rows written per table.
    """
    mimic_dir, out_dir = Path(mimic_dir), Path(out_dir)
    staging = out_dir / ".staging"
    try:
        with private_umask():
            out_dir.mkdir(parents=True, exist_ok=True)
            return _convert(mimic_dir, out_dir, staging)
    finally:
        # Staged copies hold note text; the tables written are patient data (owner only).
        shutil.rmtree(staging, ignore_errors=True)
        make_private(out_dir)


def _convert(mimic_dir: Path, out_dir: Path, staging: Path) -> dict:
    sources: dict[str, dict] = {}
    pats = _open(mimic_dir, "PATIENTS", staging, sources)
    adm = _open(mimic_dir, "ADMISSIONS", staging, sources)
    notes = _open(mimic_dir, "NOTEEVENTS", staging, sources)
    dx = _open(mimic_dir, "DIAGNOSES_ICD", staging, sources)

    # Race and ethnicity live on admissions in MIMIC-III; a patient takes their first admission's.
    first_adm = (adm.select(_strip("SUBJECT_ID").alias("patient_id"), _strip("ADMITTIME").alias("t"),
                            _strip("ETHNICITY").alias("e"))
                 .sort("t", nulls_last=True).group_by("patient_id", maintain_order=True).first())
    patients = pats.select(
        _strip("SUBJECT_ID").alias("patient_id"),
        _strip("DOB").alias("birth_date"),
        _strip("GENDER").replace_strict(SEX, default=pl.col("GENDER")).alias("sex"),
    ).join(first_adm, on="patient_id", how="left", maintain_order="left").select(
        "patient_id", "birth_date", "sex",
        race_of(pl.col("e")).alias("race"),
        ethnicity_of(pl.col("e")).alias("ethnicity"),
        pl.lit(None, pl.String).alias("region"),
    )
    encounters = adm.select(
        _strip("HADM_ID").alias("encounter_id"),
        _strip("SUBJECT_ID").alias("patient_id"),
        pl.lit(SITE).alias("site"),
        pl.lit(None, pl.String).alias("department"),
        pl.lit("inpatient").alias("encounter_class"),
        _strip("ADMISSION_TYPE").str.to_lowercase().alias("admission_type"),
        _strip("ADMITTIME").alias("admit_time"),
        _strip("DISCHTIME").alias("discharge_time"),
        disposition(pl.col("DISCHARGE_LOCATION"), pl.col("HOSPITAL_EXPIRE_FLAG"),
                    pl.col("DEATHTIME")).alias("discharge_disposition"),
        _strip("INSURANCE").str.to_lowercase().alias("payer"),
    )
    is_error = (pl.col("ISERROR").str.strip_chars() == "1").fill_null(False)
    n_iserror = notes.filter(is_error).select(pl.len()).collect().item()
    notes_out = notes.filter(~is_error).select(
        _strip("ROW_ID").alias("note_id"),
        _strip("SUBJECT_ID").alias("patient_id"),
        _strip("HADM_ID").alias("encounter_id"),
        note_type(pl.col("CATEGORY"), pl.col("DESCRIPTION")).alias("note_type"),
        # Discharge summaries carry only CHARTDATE; their time is taken as midnight.
        pl.coalesce(_strip("CHARTTIME"), _strip("CHARTDATE")).alias("note_time"),
        pl.col("TEXT").alias("text"),
    )
    diagnoses = dx.select(
        _strip("HADM_ID").alias("encounter_id"),
        _strip("ICD9_CODE").alias("icd10_code"),
        _strip("SEQ_NUM").alias("position"),
        pl.lit("icd9").alias("icd_version"),
    )
    claims = pl.LazyFrame(schema={c: pl.String for c in TABLES["claims"].names})

    written = {}
    for name, lf in [("patients", patients), ("encounters", encounters), ("notes", notes_out),
                     ("diagnoses", diagnoses), ("claims", claims)]:
        path = out_dir / f"{name}.parquet"
        with published_file(path) as tmp:
            lf.sink_parquet(tmp, engine="streaming")
        written[name] = pl.scan_parquet(path).select(pl.len()).collect().item()

    # Every NOTEEVENTS row is written, dropped as ISERROR, or dropped as malformed.
    ne = sources["NOTEEVENTS"]
    assert ne["read"] == written["notes"] + n_iserror + ne["malformed_dropped"], (ne, written, n_iserror)
    report = {"mimic_dir": str(mimic_dir), "sources": sources, "iserror_notes_dropped": n_iserror,
              "written": written}
    write_json(out_dir / "adapter_report.json", report)
    log.info("MIMIC-III: wrote %s; dropped %d ISERROR note(s)", written, n_iserror)
    return report
