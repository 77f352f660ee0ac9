"""Clean: the study's cleaning rules applied to every note, every drop counted by reason and type.

Inputs larger than `in_memory_max_bytes` on disk take the streaming path: three passes keep
memory bounded by the polars engine's chunks plus 24 bytes per note:
1. clean the text, count words, find the first drop reason, hash the cleaned text (to a
   temporary parquet beside the output);
2. on the small (row, time, id, hash) frame of kept notes, mark every repeat of an earlier
   note's text (by note_time, then note_id) duplicate;
3. write the kept notes and count everything by reason and note type.
Smaller inputs are cleaned in one in-memory pass (the same expressions, so the same output)
which saves writing and re-reading the text.
"""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from lang1core.corpus import text as T
from lang1core.private_files import DIR_MODE, FILE_MODE
from lang1core.publish import published_file

log = logging.getLogger(__name__)

CLEAN_COLUMNS = ["note_id", "patient_id", "encounter_id", "note_type", "note_time", "site", "department",
                 "region", "n_words", "n_chars", "text"]


def clean_frame(lf: pl.LazyFrame, min_words: int, placeholders) -> pl.LazyFrame:
    """Add cleaned `text`, `n_words`, `n_chars`, `reason`, hashes; keep the raw text as `_raw`."""
    return (lf.rename({"text": "_raw"})
            .with_columns(T.clean_text(pl.col("_raw")).alias("text"))
            .with_columns(T.word_count(pl.col("text")).fill_null(0).alias("n_words"),
                          pl.col("text").str.len_bytes().fill_null(0).cast(pl.Int64).alias("n_chars"))
            .with_columns(T.drop_reason(pl.col("_raw"), pl.col("text"), pl.col("n_words"), min_words,
                                        placeholders).alias("reason"),
                          *T.text_hash(pl.col("text"))))


# Parquet inputs up to this size are cleaned in memory (peak about 4x the text size).
IN_MEMORY_MAX_BYTES = 1 << 30


def _stats_frame(final: pl.LazyFrame) -> pl.LazyFrame:
    return (final.group_by("reason", "note_type")
            .agg(pl.len().alias("notes"), pl.col("_raw_bytes").sum().alias("raw_bytes"),
                 pl.col("n_chars").sum().alias("chars"), pl.col("n_words").sum().alias("words"),
                 pl.col("_had_non_ascii").sum().alias("non_ascii"))
            .sort("reason", "note_type", nulls_last=False))


def _duplicate_rows(lf: pl.LazyFrame) -> pl.Series:
    """Rows of kept notes whose cleaned text appeared in an earlier note (by note_time, then
    note_id): decided on a key frame (row, time, id, hashes), never on the text."""
    keys = (lf.filter(pl.col("reason").is_null()).select("_row", "note_time", "note_id", "_h1", "_h2")
            .collect(engine="streaming").sort("note_time", "note_id", nulls_last=True))
    return keys.filter(~pl.struct("_h1", "_h2").is_first_distinct())["_row"]


def _with_raw_stats(lf: pl.LazyFrame, min_words: int, placeholders) -> pl.LazyFrame:
    return (clean_frame(lf, min_words, placeholders)
            .with_columns(pl.col("_raw").str.len_bytes().fill_null(0).cast(pl.Int64).alias("_raw_bytes"),
                          T.has_non_ascii(pl.col("_raw")).fill_null(False).alias("_had_non_ascii"))
            .drop("_raw"))


def clean_notes(notes_path: str | Path, out_clean: str | Path, out_dropped: str | Path | None = None,
                min_words: int = 10, placeholders=T.DEFAULT_PLACEHOLDERS, dedupe: bool = True,
                in_memory_max_bytes: int = IN_MEMORY_MAX_BYTES,
                modes: tuple[int, int] = (FILE_MODE, DIR_MODE)) -> dict:
    """Clean `notes_path` (extract's output) into `out_clean`; return the statistics dict.
    Every file written holds note text or note ids: created with `modes` (file, folder)."""
    out_clean = Path(out_clean)
    if Path(notes_path).stat().st_size <= in_memory_max_bytes:
        df = _with_raw_stats(pl.scan_parquet(notes_path).with_row_index("_row"), min_words, placeholders).collect()
        if dedupe:
            dup_rows = _duplicate_rows(df.lazy())
            df = df.with_columns(pl.when(pl.col("_row").is_in(dup_rows.implode())).then(pl.lit(T.DUPLICATE))
                                 .otherwise(pl.col("reason")).alias("reason"))
        with published_file(out_clean, *modes) as tmp:
            df.filter(pl.col("reason").is_null()).select(CLEAN_COLUMNS).write_parquet(tmp)
        by = _stats_frame(df.lazy()).collect()
        if out_dropped is not None:
            with published_file(out_dropped, *modes) as tmp:
                (df.filter(pl.col("reason").is_not_null())
                 .select("note_id", "note_type", "reason", "n_words", "n_chars").write_parquet(tmp))
        return _summarise(by, min_words, placeholders, dedupe)
    tmp = out_clean.with_name(out_clean.stem + ".tmp.parquet")
    try:
        with published_file(tmp, *modes) as part:
            _with_raw_stats(pl.scan_parquet(notes_path).with_row_index("_row"), min_words,
                            placeholders).sink_parquet(part)
        if dedupe:
            dup_rows = _duplicate_rows(pl.scan_parquet(tmp))
        else:
            dup_rows = pl.Series("_row", [], pl.UInt32)
        final = pl.scan_parquet(tmp).with_columns(
            pl.when(pl.col("_row").is_in(dup_rows.implode())).then(pl.lit(T.DUPLICATE))
            .otherwise(pl.col("reason")).alias("reason"))
        with published_file(out_clean, *modes) as part:
            final.filter(pl.col("reason").is_null()).select(CLEAN_COLUMNS).sink_parquet(part)
        by = _stats_frame(final).collect(engine="streaming")
        if out_dropped is not None:
            with published_file(out_dropped, *modes) as part:
                (final.filter(pl.col("reason").is_not_null())
                 .select("note_id", "note_type", "reason", "n_words", "n_chars").sink_parquet(part))
    finally:
        tmp.unlink(missing_ok=True)
    return _summarise(by, min_words, placeholders, dedupe)


def _summarise(by: pl.DataFrame, min_words: int, placeholders, dedupe: bool) -> dict:
    kept = by.filter(pl.col("reason").is_null())
    dropped = by.filter(pl.col("reason").is_not_null())
    stats = {
        "rules": {"min_words": min_words, "placeholders": list(placeholders), "dedupe": dedupe,
                  "reasons_in_order": list(T.REASONS)},
        "input_notes": int(by["notes"].sum()),
        "kept_notes": int(kept["notes"].sum()),
        "dropped_notes": int(dropped["notes"].sum()),
        "dropped": {r: {"total": int(dropped.filter(pl.col("reason") == r)["notes"].sum()),
                        "by_note_type": {t: int(n) for t, n in dropped.filter(pl.col("reason") == r)
                                         .select("note_type", "notes").iter_rows()}}
                    for r in T.REASONS},
        "kept_by_note_type": {t: int(n) for t, n in kept.select("note_type", "notes").iter_rows()},
        "input_bytes": int(by["raw_bytes"].sum()),
        "kept_chars": int(kept["chars"].sum()),
        "kept_words": int(kept["words"].sum()),
        # Kept notes whose text was changed by character removal (counted, not dropped).
        "kept_notes_with_non_ascii_removed": int(kept["non_ascii"].sum()),
    }
    total = stats["kept_notes"] + sum(d["total"] for d in stats["dropped"].values())
    if total != stats["input_notes"]:
        raise AssertionError(f"clean does not reconcile: {stats['input_notes']} in != {total} kept + dropped")
    stats["reconciles"] = True
    log.info("clean: %d notes -> %d kept; dropped %s", stats["input_notes"], stats["kept_notes"],
             {r: d["total"] for r, d in stats["dropped"].items() if d["total"]})
    return stats
