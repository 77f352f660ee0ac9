"""Text measures of a note corpus: how varied, how templated and how drifting its language is.

bench/synth_validity.py applies them to the synthetic hospital; each takes polars frames (or
batches of texts) so it runs on any export, real or synthetic.

- words: lower-cased runs of letters (digits never belong to a word, so numbers cannot
  inflate the vocabulary and drift tokens are never numbers);
- section headers: a line that starts with a capitalised phrase of at most six words and a
  colon ("Chief Complaint:", "Assessment & Plan:"); a note's section structure is the ordered
  tuple of its headers;
- duplicates: notes whose text, with every digit run masked, equals an earlier note's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

# One word: a run of letters in lower-cased text.
WORD_PATTERN = r"[a-z]+"
# A section header: at line start, a capitalised word and up to five more, then ':'. The
# pattern is valid for both Python's `re` and polars' (Rust) regex engine.
SECTION_HEADER_PATTERN = r"(?m)^[ \t]*([A-Z][A-Za-z&/'()-]*(?:[ \t]+[A-Za-z&/'()-]+){0,5})[ \t]*:"
DIGITS_PATTERN = r"[0-9]+"
_HEADER_RE = re.compile(SECTION_HEADER_PATTERN)
_SPACES_RE = re.compile(r"[ \t]+")


def section_headers(text: str) -> tuple[str, ...]:
    """The ordered section headers of one note (inner whitespace collapsed)."""
    return tuple(_SPACES_RE.sub(" ", m) for m in _HEADER_RE.findall(text))


def section_headers_expr(col: str = "text") -> pl.Expr:
    """`section_headers` as a polars expression: one list of header strings per row."""
    return (pl.col(col).str.extract_all(SECTION_HEADER_PATTERN)
            .list.eval(pl.element().str.replace(r"[ \t]*:$", "").str.strip_chars_start(" \t")
                       .str.replace_all(r"[ \t]+", " ")))


def masked_text_expr(col: str = "text") -> pl.Expr:
    """The text with every digit run replaced by '0' (dates, vitals, doses compare equal)."""
    return pl.col(col).str.replace_all(DIGITS_PATTERN, "0")


def whole_notes(notes: pl.LazyFrame) -> pl.LazyFrame:
    """One row per note (note_id, note_type, text): multi-part notes joined in `part` order,
    the way the ReMedE build reads them; only those notes are grouped, so single-part text
    (nearly all of it) streams through untouched."""
    from lang1core.remede.labels import join_note_parts

    names = notes.collect_schema().names()
    missing = [c for c in ("note_id", "note_type", "text") if c not in names]
    if missing:
        raise ValueError(f"notes frame: missing column(s) {missing} (have {names})")
    if "part" not in names:
        return notes.select("note_id", "note_type", "text")
    multi = notes.filter(pl.col("part") > 1).select("note_id").unique()
    single = notes.join(multi, on="note_id", how="anti").select("note_id", "note_type", "text")
    joined = join_note_parts(notes.join(multi, on="note_id", how="semi")
                             .select("note_id", "note_type", "text", "part",
                                     pl.lit(None, pl.String).alias("patient_id"),
                                     pl.lit(None, pl.String).alias("encounter_id"),
                                     pl.lit(None, pl.Datetime("us")).alias("note_time")))
    return pl.concat([single, joined.select("note_id", "note_type", "text")])


def duplicate_share(notes: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    """Per note_type: notes, distinct number-masked texts, and the share of notes that repeat
    an earlier note's masked text (notes - distinct) / notes. Texts are compared by a 64-bit
    hash, so memory holds one integer per note, not the text."""
    lf = whole_notes(notes.lazy())
    return (lf.select("note_type", h=masked_text_expr().hash(seed=0))
            .group_by("note_type")
            .agg(notes=pl.len(), distinct=pl.col("h").n_unique())
            .with_columns(share=(pl.col("notes") - pl.col("distinct")) / pl.col("notes"))
            .sort("note_type").collect(engine="streaming"))


def section_variants(notes: pl.LazyFrame | pl.DataFrame, note_types: Sequence[str] | None = None) -> pl.DataFrame:
    """Per note_type: notes and distinct section structures (ordered header tuples)."""
    lf = whole_notes(notes.lazy())
    if note_types is not None:
        lf = lf.filter(pl.col("note_type").is_in(list(note_types)))
    # Headers joined by a unit separator (never inside a header) make a hashable key.
    key = section_headers_expr().list.join("\x1f").hash(seed=0)
    return (lf.select("note_type", k=key)
            .group_by("note_type").agg(notes=pl.len(), variants=pl.col("k").n_unique())
            .sort("note_type").collect(engine="streaming"))


def words_expr(col: str = "text") -> pl.Expr:
    """The words of each row (list of strings)."""
    return pl.col(col).str.to_lowercase().str.extract_all(WORD_PATTERN)


@dataclass
class WordTypes:
    """Distinct words as notes are added in a random order, and the count per `per` notes."""

    notes: int  # notes read
    types: int  # distinct words in them
    per: int  # the reference corpus size (notes)
    per_estimate: float  # distinct words in `per` notes: exact when notes >= per, else Heaps' law
    extrapolated: bool
    curve: list[tuple[int, int]] = field(default_factory=list)  # (notes read, distinct words)
    heaps: tuple[float, float] | None = None  # (K, beta) of V(n) = K n^beta, when extrapolated


def word_types(batches: Iterable[Sequence[str]], per: int = 100_000) -> WordTypes:
    """Count distinct words over batches of texts (read at most `per` notes).

    Pass the notes in a random order: the growth curve is then the expected vocabulary of a
    random sample of each size. With fewer than `per` notes the count at `per` is
    extrapolated with Heaps' law V(n) = K n^beta fitted on the curve's second half (the
    vocabulary grows sublinearly, so scaling the count linearly would overstate it)."""
    seen: set[str] = set()
    n = 0
    curve: list[tuple[int, int]] = []
    for batch in batches:
        batch = list(batch)[: per - n]
        if not batch:
            break
        words = pl.Series("text", batch, dtype=pl.String).to_frame().select(words_expr().explode().unique())
        seen.update(w for w in words.to_series().to_list() if w is not None)
        n += len(batch)
        curve.append((n, len(seen)))
        if n >= per:
            break
    if n >= per or n == 0:
        return WordTypes(n, len(seen), per, float(len(seen)), False, curve)
    tail = [(a, b) for a, b in curve if a >= n / 2 and b > 0]
    if len(tail) < 2:
        # One point: no slope to fit; assume the sublinear growth typical of text (beta 0.5).
        beta, k = 0.5, len(seen) / math.sqrt(n)
    else:
        x, y = np.log([a for a, _ in tail]), np.log([b for _, b in tail])
        beta, logk = np.polyfit(x, y, 1)
        beta = float(min(max(beta, 0.0), 1.0))
        k = float(np.exp(np.mean(y - beta * x)))
    return WordTypes(n, len(seen), per, float(k * per**beta), True, curve, (float(k), beta))


def word_counts(texts: pl.Series) -> np.ndarray:
    """Whitespace-separated words per text (what "a 500-word note" means)."""
    return texts.to_frame("text").select(pl.col("text").str.count_matches(r"\S+")).to_series().to_numpy()


def token_period_counts(notes: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """From notes with text, period and site: (token occurrences per period, notes per
    (site, token)). Sum these over batches for a corpus that does not fit in memory."""
    toks = notes.select("period", "site", tok=words_expr()).with_row_index("_note").explode("tok").drop_nulls("tok")
    per_period = toks.group_by("period", "tok").agg(n=pl.len())
    per_site = toks.unique(["_note", "tok"]).group_by("site", "tok").agg(notes=pl.len())
    return per_period, per_site


def drift_tokens(per_period: pl.DataFrame, per_site: pl.DataFrame, periods: Sequence[str], top: int = 20,
                 min_notes: int = 20, min_sites: int = 2, alpha: float = 1.0) -> pl.DataFrame:
    """The `top` tokens whose relative frequency changes most between periods.

    Only vocabulary is ranked: a token must appear in >= `min_notes` notes at each of >=
    `min_sites` sites (a patient's or clinician's name does not). Relative frequencies are
    add-`alpha` smoothed over the kept vocabulary; a token's score is the largest log ratio
    between two periods. Returns token, per-10,000-token rate per period, log_ratio,
    `rises_to` (period with the highest rate) and `from` (the lowest)."""
    per_period = per_period.group_by("period", "tok").agg(pl.col("n").sum())
    per_site = per_site.group_by("site", "tok").agg(pl.col("notes").sum())
    vocab = (per_site.filter(pl.col("notes") >= min_notes).group_by("tok").agg(sites=pl.len())
             .filter(pl.col("sites") >= min_sites).select("tok"))
    counts = per_period.join(vocab, on="tok", how="semi")
    wide = vocab.join(counts.pivot(on="period", index="tok", values="n"), on="tok", how="left")
    for p in periods:
        if p not in wide.columns:
            wide = wide.with_columns(pl.lit(0, pl.UInt32).alias(p))
    wide = wide.with_columns([pl.col(p).fill_null(0).cast(pl.Float64) for p in periods])
    v = wide.height
    if v == 0:
        return pl.DataFrame(schema={"tok": pl.String, **{p: pl.Float64 for p in periods}, "log_ratio": pl.Float64,
                                    "rises_to": pl.String, "from": pl.String})
    totals = {p: float(wide[p].sum()) for p in periods}
    logf = np.stack([np.log((wide[p].to_numpy() + alpha) / (totals[p] + alpha * v)) for p in periods], axis=1)
    hi, lo = logf.argmax(axis=1), logf.argmin(axis=1)
    rates = {p: 1e4 * wide[p].to_numpy() / max(totals[p], 1.0) for p in periods}
    out = pl.DataFrame({"tok": wide["tok"], **rates, "log_ratio": logf.max(axis=1) - logf.min(axis=1),
                        "rises_to": np.asarray(periods)[hi], "from": np.asarray(periods)[lo]})
    return out.sort(["log_ratio", "tok"], descending=[True, False]).head(top)
