"""Extract: validated note rows -> one row per note, with the metadata later steps need.

Reads `validated/notes.parquet` lazily (polars streaming engine, so memory stays bounded by the
engine's chunks, not by the corpus), joins multi-part notes in `part` order, and attaches the
encounter's site and department and the patient's region (for statistics, the held-out-site
rule and the date cutoff). A note loses all its parts when one part was rejected by validation
or a part number is missing; such rows go to `rejected.parquet` with a reason, together with
the rows validation itself rejected, so that

    export rows read == rows in kept notes + rows rejected (validation) + rows rejected (extract)

holds exactly and is asserted.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from lang1core.export.validate import read_validated
from lang1core.private_files import DIR_MODE, FILE_MODE
from lang1core.publish import published_file

log = logging.getLogger(__name__)

NOTE_COLUMNS = ["note_id", "patient_id", "encounter_id", "note_type", "note_time", "site", "department",
                "region", "n_parts", "text"]
REJECTED_COLUMNS = ["note_id", "patient_id", "encounter_id", "note_type", "note_time", "part", "stage",
                    "reason", "detail", "text"]
PART_REJECTED = "part rejected by validation"
MISSING_PART = "missing part"
PARTS_DISAGREE = "parts disagree on metadata"
META = ["patient_id", "encounter_id", "note_type", "note_time"]


def _validation_rejects(validated_dir: Path) -> pl.DataFrame:
    path = validated_dir / "rejected" / "notes.parquet"
    if not path.is_file():
        return pl.DataFrame(schema={c: pl.String for c in REJECTED_COLUMNS})
    df = pl.read_parquet(path)
    out = []
    for c in REJECTED_COLUMNS:
        if c == "stage":
            out.append(pl.lit("validate").alias(c))
        elif c in df.columns:
            out.append(pl.col(c).cast(pl.String))
        else:
            out.append(pl.lit(None, pl.String).alias(c))
    return df.select(out)


def extract_notes(validated_dir: str | Path, out_notes: str | Path, out_rejected: str | Path,
                  modes: tuple[int, int] = (FILE_MODE, DIR_MODE)) -> dict:
    """Write one typed row per note to `out_notes` and rejected rows to `out_rejected`; return counts.
    Both hold note text: created with `modes` (file, folder; owner-only by default)."""
    vdir = Path(validated_dir)
    notes = read_validated(vdir, "notes")
    if "part" not in notes.collect_schema():
        notes = notes.with_columns(pl.lit(1, pl.Int64).alias("part"))
    notes = notes.with_columns(pl.col("text").fill_null(""))
    val_rej = _validation_rejects(vdir)
    rejected_ids = val_rej["note_id"].drop_nulls().unique()

    # Per note: how many parts, whether they run 1..n, whether their metadata agree.
    shape = (notes.group_by("note_id")
             .agg(pl.len().alias("n_parts"), pl.col("part").max().alias("_max_part"),
                  *[pl.col(c).n_unique().alias(f"_nu_{c}") for c in META])
             .with_columns(
                 pl.when(pl.col("note_id").is_in(rejected_ids.implode())).then(pl.lit(PART_REJECTED))
                 .when(pl.col("_max_part") != pl.col("n_parts")).then(pl.lit(MISSING_PART))
                 .when(pl.any_horizontal([pl.col(f"_nu_{c}") > 1 for c in META])).then(pl.lit(PARTS_DISAGREE))
                 .otherwise(pl.lit(None, pl.String)).alias("reason"))
             .select("note_id", "n_parts", "_max_part", "reason")
             .collect(engine="streaming"))
    bad = shape.filter(pl.col("reason").is_not_null())

    # Rejected parts of otherwise valid rows, with the reason and a detail naming the note.
    ext_rej = (notes.join(bad.lazy(), on="note_id", how="inner")
               .with_columns(
                   pl.lit("extract").alias("stage"),
                   pl.format("note {}: {} (has {} part(s), highest part {})", pl.col("note_id"), pl.col("reason"),
                             pl.col("n_parts"), pl.col("_max_part")).alias("detail"))
               .select([pl.col(c).cast(pl.String) for c in REJECTED_COLUMNS])
               .collect(engine="streaming"))
    rejected = pl.concat([val_rej, ext_rej], how="vertical")
    with published_file(out_rejected, *modes) as tmp:
        rejected.write_parquet(tmp)

    encounters = read_validated(vdir, "encounters").select("encounter_id", "site", "department")
    patients = read_validated(vdir, "patients").select("patient_id", "region")
    good = shape.filter(pl.col("reason").is_null()).select("note_id", "n_parts")
    # Single-part notes (nearly all) stream straight through; only multi-part notes are grouped
    # and joined with a newline, in part order. Nothing sorts the text: "earliest first" for
    # deduplication is decided later on a small key frame.
    single = (notes.join(good.filter(pl.col("n_parts") == 1).lazy(), on="note_id", how="semi")
              .with_columns(pl.lit(1, pl.UInt32).alias("n_parts")))
    multi = (notes.join(good.filter(pl.col("n_parts") > 1).lazy(), on="note_id", how="semi")
             .sort("note_id", "part")
             .group_by("note_id", maintain_order=True)
             .agg(*[pl.col(c).first() for c in META], pl.len().alias("n_parts"), pl.col("text").str.join("\n")))
    cols = ["note_id", *META, "n_parts", "text"]
    joined = (pl.concat([single.select(cols), multi.select(cols)], how="vertical")
              .join(encounters, on="encounter_id", how="left", maintain_order="left")
              .join(patients, on="patient_id", how="left", maintain_order="left")
              .select(NOTE_COLUMNS))
    with published_file(out_notes, *modes) as tmp:
        joined.sink_parquet(tmp)

    kept = pl.scan_parquet(out_notes).select(pl.len().alias("notes"), pl.col("n_parts").sum().alias("rows")).collect()
    n_notes, kept_rows = int(kept["notes"][0]), int(kept["rows"][0] or 0)
    validated_rows = int(notes.select(pl.len()).collect()[0, 0])
    counts = {
        "export_rows": validated_rows + val_rej.height,
        "validated_rows": validated_rows,
        "notes": n_notes,
        "rows_in_kept_notes": kept_rows,
        "multi_part_notes": int(pl.scan_parquet(out_notes).filter(pl.col("n_parts") > 1)
                                .select(pl.len()).collect()[0, 0]),
        "rejected_rows": {"validate": val_rej.height, "extract": ext_rej.height},
        "rejected_by_reason": dict(sorted(
            (f"{s}: {r}", n) for s, r, n in rejected.group_by("stage", "reason").len().iter_rows())),
    }
    if validated_rows != kept_rows + ext_rej.height:
        raise AssertionError(f"extract does not reconcile: {validated_rows} validated rows != "
                             f"{kept_rows} in kept notes + {ext_rej.height} rejected")
    log.info("extract: %d export rows -> %d notes (%d rows); rejected %s", counts["export_rows"], n_notes,
             kept_rows, counts["rejected_by_reason"])
    return counts
