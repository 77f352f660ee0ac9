"""The study's cleaning rules, one by one, and the drop counts they produce."""

from __future__ import annotations

import polars as pl
import pytest

from lang1core.corpus import text as T
from lang1core.corpus.clean import clean_notes


def clean(s: str | None) -> str | None:
    return pl.select(T.clean_text(pl.lit(s, pl.String)))[0, 0]


@pytest.mark.parametrize("raw, expected", [
    ("patient\u2019s \u201cpain\u201d", "patient's \"pain\""),          # typographic quotes
    ("BP 120/80 \u2013 stable\u2026", "BP 120/80 - stable..."),         # dashes, ellipsis
    ("a\u00a0b\tc", "a b c"),                                            # odd spaces, tabs
    ("line1\r\nline2\rline3", "line1\nline2\nline3"),                    # CR/LF
    ("temp 38.5\u00b0C", "temp 38.5 degrees C"),                         # degree sign spelled
])
def test_punctuation_is_standardised(raw, expected):
    assert clean(raw) == expected


def test_non_ascii_and_malformed_characters_are_removed():
    assert clean("caf\u00e9 na\u00efve \ufffd ok") == "caf nave ok"
    assert clean("a\x00b\x07c\x1bd\x7f") == "abcd"
    assert clean("\u65e5\u672c\u8a9e text") == "text"


def test_errant_whitespace_and_newlines():
    assert clean("  a   b  \n\n\n\n  c  ") == "a b\n\nc"
    assert clean("word ,next ;x") == "word,next;x"


def test_separator_runs_shrink():
    assert clean("A\n==========\nB -------- C ********") == "A\n===\nB --- C ***"
    assert clean("wait.......what!!!???") == "wait...what!?"


def test_null_stays_null():
    assert clean(None) is None


def frame(texts: list[str | None], types: list[str] | None = None) -> pl.DataFrame:
    n = len(texts)
    return pl.DataFrame({
        "note_id": [f"N{i}" for i in range(n)], "patient_id": ["P"] * n, "encounter_id": ["E"] * n,
        "note_type": types or ["progress"] * n,
        "note_time": pl.datetime_range(pl.datetime(2020, 1, 1), pl.datetime(2020, 1, 1) + pl.duration(days=n - 1),
                                       "1d", eager=True),
        "site": ["site_a"] * n, "department": ["medicine"] * n, "region": ["north"] * n, "n_parts": [1] * n,
        "text": pl.Series(texts, dtype=pl.String),
    })


TEN = "one two three four five six seven eight nine ten"


@pytest.mark.parametrize("text, reason", [
    (None, T.EMPTY), ("", T.EMPTY), ("   \n\t  ", T.EMPTY),
    (TEN + " <NA>", T.PLACEHOLDER), ("N/A", T.PLACEHOLDER), ("null", T.PLACEHOLDER),
    ("\u00e9\u00e8\u00ea \u65e5\u672c", T.NON_ASCII_ONLY),
    ("\x00\x01\x02", T.EMPTY_AFTER_CLEANING),
    ("one two three four five six seven eight nine", T.TOO_SHORT),
    (TEN, None),
])
def test_each_drop_rule(tmp_path, text, reason):
    frame([text]).write_parquet(tmp_path / "notes.parquet")
    stats = clean_notes(tmp_path / "notes.parquet", tmp_path / "clean.parquet", tmp_path / "dropped.parquet")
    kept = pl.read_parquet(tmp_path / "clean.parquet")
    if reason is None:
        assert kept.height == 1 and stats["kept_notes"] == 1 and kept["n_words"][0] == 10
    else:
        assert kept.height == 0
        assert stats["dropped"][reason]["total"] == 1
        assert stats["dropped"][reason]["by_note_type"] == {"progress": 1}
        assert pl.read_parquet(tmp_path / "dropped.parquet")["reason"].to_list() == [reason]


def test_duplicates_keep_the_earliest_and_counts_reconcile_by_type(tmp_path):
    texts = [TEN, TEN + "  ", "Different note with quite enough words to be kept in the corpus.",
             TEN.replace("one", "\u201cone\u201d").replace('"', ""), "short", None, "<NA> " + TEN]
    types = ["progress", "nursing", "progress", "radiology", "nursing", "consult", "progress"]
    frame(texts, types).write_parquet(tmp_path / "notes.parquet")
    stats = clean_notes(tmp_path / "notes.parquet", tmp_path / "clean.parquet", tmp_path / "dropped.parquet")
    kept = pl.read_parquet(tmp_path / "clean.parquet")
    # N1 differs from N0 only by trailing spaces, so its cleaned text is a duplicate.
    assert kept["note_id"].to_list() == ["N0", "N2", "N3"]
    assert stats["dropped"][T.DUPLICATE] == {"total": 1, "by_note_type": {"nursing": 1}}
    assert stats["dropped"][T.TOO_SHORT]["by_note_type"] == {"nursing": 1}
    assert stats["dropped"][T.EMPTY]["by_note_type"] == {"consult": 1}
    assert stats["dropped"][T.PLACEHOLDER]["by_note_type"] == {"progress": 1}
    assert stats["input_notes"] == 7 == stats["kept_notes"] + stats["dropped_notes"]
    assert stats["kept_by_note_type"] == {"progress": 2, "radiology": 1}
    assert stats["kept_notes_with_non_ascii_removed"] == 1


def test_dedupe_can_be_switched_off(tmp_path):
    frame([TEN, TEN]).write_parquet(tmp_path / "notes.parquet")
    stats = clean_notes(tmp_path / "notes.parquet", tmp_path / "clean.parquet", dedupe=False)
    assert stats["kept_notes"] == 2


def test_fast_word_count_matches_a_regex_on_cleaned_text():
    import random

    rng = random.Random(0)
    alphabet = ["a", "b", " ", "  ", "\n", "\n\n\n", "\t", "\r\n", "\u00e9", "\x00", ".", "-----", " ,"]
    raw = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(2000)]
    df = pl.DataFrame({"t": raw}).with_columns(T.clean_text(pl.col("t")).alias("c"))
    got = df.select(T.word_count(pl.col("c")))["c"].to_list()
    want = df.select(pl.col("c").str.count_matches(r"\S+"))["c"].to_list()
    assert got == want


def test_streaming_and_in_memory_paths_agree(tmp_path):
    texts = [TEN, TEN, None, "N/A", "short one", TEN + " more", "\u00e9\u00e8", TEN + " <NA>", TEN + " more"] * 5
    frame(texts, ["progress", "nursing", "consult"] * 15).write_parquet(tmp_path / "notes.parquet")
    a = clean_notes(tmp_path / "notes.parquet", tmp_path / "a.parquet", tmp_path / "da.parquet")
    b = clean_notes(tmp_path / "notes.parquet", tmp_path / "b.parquet", tmp_path / "db.parquet", in_memory_max_bytes=0)
    assert a == b
    assert pl.read_parquet(tmp_path / "a.parquet").equals(pl.read_parquet(tmp_path / "b.parquet"))
    assert pl.read_parquet(tmp_path / "da.parquet").sort("note_id").equals(
        pl.read_parquet(tmp_path / "db.parquet").sort("note_id"))
    assert not list(tmp_path.glob("*.tmp.parquet"))
