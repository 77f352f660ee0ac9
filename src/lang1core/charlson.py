"""Charlson Comorbidity Index of encounters from their ICD codes, via pycomorb.

The study's CCI task scores the codes of one encounter with Charlson's weights; age points
are not added (the task predicts comorbidity, and age is in the note anyway). Quan et al.'s
coding algorithms (2005) map ICD-10 and ICD-9-CM codes to the 17 categories; pycomorb applies
the usual hierarchy (e.g. metastatic tumour supersedes any malignancy). Dotted or undotted
codes both work.
"""

from __future__ import annotations

import polars as pl

# What the ReMedE stage records in its meta.json beside the CCI labels.
METHOD = {
    "library": "pycomorb",
    "mapping": "quan",  # Quan et al. 2005, ICD-9-CM and ICD-10
    "weights": "charlson",  # Charlson et al. 1987
    "age_points": False,
    "bins": ["0", "1-2", "3-4", "5-7", ">7"],
}

# Upper edges of the study's CCI bins 0, 1-2, 3-4, 5-7, >7.
CCI_BIN_EDGES = (0, 2, 4, 7)


def charlson_index(diagnoses: pl.DataFrame, id_col: str = "encounter_id", code_col: str = "icd10_code",
                   icd_version: str = "icd10") -> pl.DataFrame:
    """One row per id in `diagnoses`: columns `id_col` and `cci` (Int64, no age points).

    icd_version: "icd10", "icd9", or "icd9_10" with an `icd_version` column holding
    "icd9"/"icd10" per row (as the export contract's diagnoses table does).
    """
    import pycomorb  # imported here: it loads its definition tables on import

    for col in (id_col, code_col):
        if col not in diagnoses.columns:
            raise KeyError(f"charlson_index: column {col!r} missing; have {diagnoses.columns}")
    if diagnoses.height == 0:
        return pl.DataFrame({id_col: [], "cci": []},
                            schema={id_col: diagnoses.schema[id_col], "cci": pl.Int64})
    df = diagnoses.select(id_col, code_col, *(["icd_version"] if icd_version == "icd9_10" else []))
    df = df.with_columns(pl.col(code_col).cast(pl.String).str.strip_chars(), _age=pl.lit(0))
    kwargs = {"icd_version_col": "icd_version"} if icd_version == "icd9_10" else {}
    if icd_version == "icd9_10":
        # pycomorb expects the labels "icd9"/"icd10".
        df = df.with_columns(pl.col("icd_version").str.to_lowercase())
    out = pycomorb.comorbidity("charlson", df, id_col=id_col, code_col=code_col, age_col="_age",
                               icd_version=icd_version, implementation="quan", weights="charlson", **kwargs)
    return out.select(pl.col(id_col), pl.col("Charlson Comorbidity Index").cast(pl.Int64).alias("cci"))


def cci_bin(cci: pl.Expr | int):
    """Study bin index 0..4 of a CCI value (0, 1-2, 3-4, 5-7, >7)."""
    if isinstance(cci, pl.Expr):
        return (pl.when(cci <= 0).then(0).when(cci <= 2).then(1).when(cci <= 4).then(2)
                .when(cci <= 7).then(3).otherwise(4))
    return sum(cci > e for e in CCI_BIN_EDGES)
