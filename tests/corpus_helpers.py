"""Shared by the corpus tests: run validate -> extract -> clean on a tiny export."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from export_helpers import make_export

from lang1core.corpus.clean import clean_notes
from lang1core.corpus.extract import extract_notes
from lang1core.export import validate_export

LONG = "Patient seen today for follow up of chronic heart failure, doing well on current therapy."


def run_corpus(tmp_path: Path, rows=None, headers=None, min_words: int = 3, export_dir: Path | None = None):
    """Validate an export, extract and clean its notes; return (extract counts, clean stats, out dir)."""
    src = export_dir or make_export(tmp_path / "export", rows, headers)
    out = tmp_path / "out"
    validate_export(src, out / "validated", max_reject_rate=1.0)
    counts = extract_notes(out / "validated", out / "corpus" / "notes.parquet", out / "corpus" / "rejected.parquet")
    stats = clean_notes(out / "corpus" / "notes.parquet", out / "corpus" / "clean.parquet",
                        out / "corpus" / "dropped.parquet", min_words=min_words)
    json.dumps(stats)  # must be JSON-serialisable
    return counts, stats, out / "corpus"


def rejected(corpus_dir: Path) -> pl.DataFrame:
    return pl.read_parquet(corpus_dir / "rejected.parquet")


def dropped(corpus_dir: Path) -> dict[str, str]:
    df = pl.read_parquet(corpus_dir / "dropped.parquet")
    return dict(zip(df["note_id"], df["reason"]))
