"""The notes the audit reads: a model's clinical training notes and held-out notes, matched.

Training notes are the mix's clinical training documents (canaries left out). Held-out notes
are cleaned notes the mix never trained on (its validation notes, and notes of the excluded
periods). Each held-out note is paired with a training note of the same note type, site and
year, so that loss differences come from membership, not from a template, site or period
the model never saw. Text stays in memory: nothing here is written out.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lang1core.audit.canaries import CANARY_PREFIX

CLINICAL = "clinical"


def training_note_ids(train_parquet: str | Path) -> pl.Series:
    return (pl.scan_parquet(train_parquet)
            .filter((pl.col("source") == CLINICAL) & ~pl.col("doc_id").str.starts_with(CANARY_PREFIX))
            .select("doc_id").collect()["doc_id"])


def matched_notes(train_parquet: str | Path, clean_parquet: str | Path, n: int,
                  seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(training, held-out) notes: up to n pairs, row i of one matched with row i of the other
    by note type, site and year. Columns: note_id, patient_id, note_type, site, year, text."""
    members = training_note_ids(train_parquet)
    keys = ["note_type", "site", "year"]
    lf = pl.scan_parquet(clean_parquet)
    missing = [c for c in ("note_id", "patient_id", "note_type", "site", "note_time", "text")
               if c not in lf.collect_schema().names()]
    if missing:
        raise ValueError(f"{clean_parquet}: missing column(s) {missing}")
    ids = (lf.select("note_id", "note_type", "site", pl.col("note_time").dt.year().alias("year"))
           .with_columns(pl.col("note_id").is_in(members.implode()).alias("member"),
                         pl.col("note_id").hash(seed=seed).alias("_h"))
           .drop_nulls(keys).collect())
    ranked = ids.sort("_h").with_columns(pl.int_range(pl.len()).over([*keys, "member"]).alias("_r"))
    pairs = (ranked.filter(~pl.col("member"))
             .join(ranked.filter(pl.col("member")), on=[*keys, "_r"], suffix="_train")
             .sort("_h").head(n))
    if pairs.is_empty():
        empty = pl.DataFrame(schema={"note_id": pl.String, "patient_id": pl.String, "note_type": pl.String,
                                     "site": pl.String, "year": pl.Int32, "text": pl.String})
        return empty, empty
    want = pl.concat([pairs["note_id"], pairs["note_id_train"]])
    text = (lf.filter(pl.col("note_id").is_in(want.implode()))
            .select("note_id", "patient_id", "text").collect())

    def side(col: str) -> pl.DataFrame:
        return (pairs.select(pl.col(col).alias("note_id"), *keys)
                .join(text, on="note_id", how="left", maintain_order="left")
                .select("note_id", "patient_id", *keys, "text"))

    return side("note_id_train"), side("note_id")


def patient_sets(train_parquet: str | Path, clean_parquet: str | Path, n: int,
                 seed: int) -> tuple[pl.Series, pl.Series]:
    """(training patients, held-out patients), up to n each: patients with a training note,
    and patients with notes none of which the mix trained on."""
    members = training_note_ids(train_parquet)
    notes = (pl.scan_parquet(clean_parquet).select("note_id", "patient_id").drop_nulls()
             .with_columns(pl.col("note_id").is_in(members.implode()).alias("member")))
    per = notes.group_by("patient_id").agg(pl.col("member").any()).collect()
    per = per.with_columns(pl.col("patient_id").hash(seed=seed).alias("_h")).sort("_h")
    return (per.filter(pl.col("member"))["patient_id"].head(n),
            per.filter(~pl.col("member"))["patient_id"].head(n))
