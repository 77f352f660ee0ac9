"""The study's note cleaning, as polars expressions (vectorised, multi-threaded, streamable).

Lang1 (arXiv 2511.13703, corpus section): join narrative fields, standardise punctuation,
spacing and formatting, remove non-ASCII and malformed characters, remove errant whitespace and
newlines, drop notes under 10 words or holding placeholders such as `<NA>`. We also drop exact
duplicates of the cleaned text. `clean_text` changes text; `drop_reason` says why a note goes.
Both are plain expressions so the same rules serve notes, general text and the benchmarks.
"""

from __future__ import annotations

import polars as pl

# Typographic characters with an ASCII spelling; mapped before non-ASCII removal so that
# "patient’s" becomes "patient's", not "patients". Source: Unicode General Punctuation block.
PUNCTUATION_MAP: dict[str, str] = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2022": "-", "\u00b7": "-", "\u2026": "...", "\u00bd": "1/2", "\u00bc": "1/4",
    "\u00be": "3/4", "\u00b1": "+/-", "\u2264": "<=", "\u2265": ">=", "\u00d7": "x", "\u2192": "->",
    "\u00b0": " degrees ", "\u00b5": "u",
    # Spaces and breaks that are not ASCII space/newline.
    "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2009": " ", "\u202f": " ", "\t": " ",
    "\r\n": "\n", "\r": "\n", "\u2028": "\n", "\u2029": "\n\n", "\x0b": "\n", "\x0c": "\n",
}
# Control characters left after the map (NUL and friends): malformed, removed.
CONTROL = r"[\x00-\x08\x0e-\x1f\x7f]"
NON_ASCII = r"[^\x00-\x7F]"
# Separator lines ("==========") shrink to three characters; the study's "formatting" rule.
RUN_CHARS = "-=_*~#+"
# Notes whose whole text is one of these (lowercased) are placeholders, whatever their length.
PLACEHOLDER_WORDS = ("na", "n/a", "null", "none", "nan", "-", ".", "tbd", "see note", "no text")
DEFAULT_PLACEHOLDERS = ("<NA>", "<N/A>", "<NULL>", "<null>", "[NULL]", "<BLANK>", "<MISSING>", "***PLACEHOLDER***")

# Drop reasons, in the order they are tried (a note is counted under the first that holds).
EMPTY = "empty"
PLACEHOLDER = "placeholder"
NON_ASCII_ONLY = "non_ascii_only"
EMPTY_AFTER_CLEANING = "empty_after_cleaning"
TOO_SHORT = "under_min_words"
DUPLICATE = "duplicate"
REASONS = (EMPTY, PLACEHOLDER, NON_ASCII_ONLY, EMPTY_AFTER_CLEANING, TOO_SHORT, DUPLICATE)


def clean_text(e: pl.Expr) -> pl.Expr:
    """Cleaned text of a string expression (null stays null)."""
    e = e.str.replace_many(list(PUNCTUATION_MAP), list(PUNCTUATION_MAP.values()))
    e = e.str.replace_all(CONTROL, "").str.replace_all(NON_ASCII, "")
    for c in RUN_CHARS:
        e = e.str.replace_all(f"\\{c}{{4,}}", c * 3)
    e = e.str.replace_all(r"\.{4,}", "...").str.replace_all(r"!{2,}", "!").str.replace_all(r"\?{2,}", "?")
    e = e.str.replace_all(r" {2,}", " ")              # errant spaces
    e = e.str.replace_all(r" ?\n ?", "\n")            # spaces around line breaks
    e = e.str.replace_all(r"\n{3,}", "\n\n")          # at most one blank line
    e = e.str.replace_all(r" ([,;:!?])", "$1")         # no space before punctuation
    return e.str.strip_chars()


def word_count(e: pl.Expr) -> pl.Expr:
    return e.str.count_matches(r"\S+").cast(pl.Int64)


def drop_reason(raw: pl.Expr, cleaned: pl.Expr, words: pl.Expr, min_words: int,
                placeholders: list[str] | tuple[str, ...] = DEFAULT_PLACEHOLDERS) -> pl.Expr:
    """The first drop reason that holds for a note, or null if it is kept (duplicates aside)."""
    has_placeholder = (cleaned.str.contains_any(list(placeholders)) if placeholders else pl.lit(False))
    whole_placeholder = cleaned.str.to_lowercase().is_in(list(PLACEHOLDER_WORDS))
    raw_blank = raw.is_null() | (raw.str.strip_chars().str.len_bytes() == 0)
    cleaned_blank = cleaned.is_null() | (cleaned.str.len_bytes() == 0)
    return (
        pl.when(raw_blank).then(pl.lit(EMPTY))
        .when(has_placeholder.fill_null(False) | whole_placeholder.fill_null(False)).then(pl.lit(PLACEHOLDER))
        .when(cleaned_blank & raw.str.contains(NON_ASCII)).then(pl.lit(NON_ASCII_ONLY))
        .when(cleaned_blank).then(pl.lit(EMPTY_AFTER_CLEANING))
        .when(words < min_words).then(pl.lit(TOO_SHORT))
        .otherwise(pl.lit(None, pl.String))
    )


def text_hash(e: pl.Expr) -> list[pl.Expr]:
    """Two independent 64-bit hashes (128 bits together) of the cleaned text for exact dedup;
    a collision among 10^9 notes has probability about 10^-21."""
    return [e.hash(seed=0x6C616E67).alias("_h1"), e.hash(seed=0x31636F72).alias("_h2")]
