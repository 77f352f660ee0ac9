"""Corpus statistics like the study's Appendix G: notes, words and tokens of the cleaned clinical
corpus by note type, year, site, department and region, as one long table
(`dimension, value, notes, words, tokens`) that the figures stage can draw or print.

Tokens are counted with the workflow's tokenizer (no EOS), batch by batch, so memory stays
bounded. A missing value (e.g. a note without an encounter has no site) is reported as "unknown".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

DIMENSIONS = ("note_type", "year", "site", "department", "region")
STATS_COLUMNS = ["dimension", "value", "notes", "words", "tokens"]


def token_counts(texts: list[str], sp, threads: int = 1) -> np.ndarray:
    return np.fromiter(map(len, sp.encode(texts, num_threads=threads)), dtype=np.int64, count=len(texts))


def corpus_stats(clean_path: str | Path, tokenizer_model: str | Path | None, threads: int = 1,
                 batch_docs: int = 4096) -> pl.DataFrame:
    """The long Appendix-G table of `clean_path` (tokens null when no tokenizer is given)."""
    sp = None
    if tokenizer_model is not None:
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(tokenizer_model))
    cols = ["note_type", "note_time", "site", "department", "region", "n_words", "text"]
    frames = []
    for batch in pq.ParquetFile(clean_path).iter_batches(columns=cols, batch_size=batch_docs):
        df = pl.from_arrow(batch)
        tokens = (pl.Series("tokens", token_counts(df["text"].to_list(), sp, threads)) if sp is not None
                  else pl.Series("tokens", [None] * df.height, pl.Int64))
        df = df.drop("text").with_columns(tokens, pl.col("note_time").dt.year().cast(pl.String).alias("year"))
        # aggregate per batch so only the small per-group frame is kept
        frames.append(df.group_by(*DIMENSIONS).agg(pl.len().alias("notes"), pl.col("n_words").sum().alias("words"),
                                                   pl.col("tokens").sum().alias("tokens")))
    if not frames:
        return pl.DataFrame(schema={"dimension": pl.String, "value": pl.String, "notes": pl.Int64,
                                    "words": pl.Int64, "tokens": pl.Int64})
    groups = pl.concat(frames).with_columns([pl.col(d).cast(pl.String).fill_null("unknown") for d in DIMENSIONS])
    rows = [groups.select(pl.lit("all").alias("dimension"), pl.lit("all").alias("value"),
                          pl.col("notes").sum(), pl.col("words").sum(), pl.col("tokens").sum())]
    for d in DIMENSIONS:
        rows.append(groups.group_by(d).agg(pl.col("notes").sum(), pl.col("words").sum(), pl.col("tokens").sum())
                    .sort(d).select(pl.lit(d).alias("dimension"), pl.col(d).alias("value"), "notes", "words", "tokens"))
    out = pl.concat(rows).with_columns(pl.col("notes").cast(pl.Int64), pl.col("words").cast(pl.Int64),
                                       pl.col("tokens").cast(pl.Int64))
    if sp is None:
        out = out.with_columns(pl.lit(None, pl.Int64).alias("tokens"))
    return out.select(STATS_COLUMNS)


def format_stats(table: pl.DataFrame) -> str:
    """Markdown rendering of the long table (one section per dimension)."""
    lines = []
    for d in table["dimension"].unique(maintain_order=True).to_list():
        part = table.filter(pl.col("dimension") == d)
        lines += [f"### {d}", "", "| value | notes | words | tokens |", "|---|---:|---:|---:|"]
        lines += [f"| {v} | {n:,} | {w:,} | {'' if t is None else f'{t:,}'} |"
                  for _, v, n, w, t in part.iter_rows()]
        lines.append("")
    return "\n".join(lines)
