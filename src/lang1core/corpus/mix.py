"""Mix: the pretraining documents of one mix, split into train and validation, with the study's
exclusions applied and proven.

Clinical notes enter pretraining only if written on or before the cutoff (default end of 2023),
outside every excluded period (the temporal test window, default 2021-06-01..2021-12-31) and not
at the held-out site (a note without an encounter is excluded when its patient was ever seen at
that site, since its site cannot be told). Each exclusion is counted. After writing, the output
files are re-read and checked: a single leaked note raises.

Mixing weights are applied in tokens by the data loader, which draws each training window from
a source with probability proportional to its weight (equal by default, as in the study); this
step keeps every eligible document of the mix's sources, tagged with its source, and the shard
index reports tokens per source and how many epochs of each a token budget implies.

Canaries (`lang1core.audit.canaries`), when asked for, join the clinical source's training
documents at seeded positions, each repeated its count of times; mix_stats.json records them
and the leak check and tokenizer sample leave them out (they are not notes).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from pathlib import Path

import polars as pl

from lang1core.audit.canaries import CANARY_PREFIX, canary_documents, make_canaries
from lang1core.audit.canaries import manifest as canary_manifest
from lang1core.export.validate import read_validated
from lang1core.private_files import DIR_MODE, FILE_MODE
from lang1core.publish import published_file

log = logging.getLogger(__name__)

CLINICAL = "clinical"


def canary_settings(corpus: dict, source: str) -> dict | None:
    """{per_count, repetitions} when canaries go into the mixes, else None. `insert: auto`
    inserts them into the synthetic hospital's corpus only: a site's own export gets them when
    it asks (`insert: true`)."""
    c = corpus.get("canaries") or {}
    insert = c.get("insert", "auto")
    if insert is False or (insert == "auto" and source != "synthetic"):
        return None
    return {"per_count": int(c["per_count"]), "repetitions": [int(r) for r in c["repetitions"]]}
MIX_COLUMNS = {"doc_id": pl.String, "source": pl.String, "note_time": pl.Datetime("us"), "site": pl.String,
               "patient_id": pl.String, "text": pl.String}
AFTER_CUTOFF, EXCLUDED_PERIOD, HELD_OUT_SITE, HELD_OUT_PATIENT = (
    "after_cutoff", "in_excluded_period", "held_out_site", "held_out_site_patient_without_encounter")


def _day_after(d: str | dt.date) -> dt.datetime:
    d = dt.date.fromisoformat(str(d)) if not isinstance(d, dt.date) else d
    return dt.datetime.combine(d + dt.timedelta(days=1), dt.time())


def _start(d: str | dt.date) -> dt.datetime:
    d = dt.date.fromisoformat(str(d)) if not isinstance(d, dt.date) else d
    return dt.datetime.combine(d, dt.time())


def exclusion_reason(cutoff, exclude_periods, held_out_site, held_out_patients: pl.Series) -> pl.Expr:
    """First exclusion that holds for a clinical note (null: eligible). Dates are inclusive."""
    t = pl.col("note_time")
    in_period = pl.lit(False)
    for p in exclude_periods or []:
        in_period = in_period | ((t >= _start(p["start"])) & (t < _day_after(p["end"])))
    expr = pl.when(t.is_null() | (t >= _day_after(cutoff)) if cutoff else t.is_null()).then(pl.lit(AFTER_CUTOFF))
    expr = expr.when(in_period).then(pl.lit(EXCLUDED_PERIOD))
    if held_out_site:
        expr = (expr.when(pl.col("site") == held_out_site).then(pl.lit(HELD_OUT_SITE))
                .when(pl.col("site").is_null() & pl.col("patient_id").is_in(held_out_patients.implode()))
                .then(pl.lit(HELD_OUT_PATIENT)))
    return expr.otherwise(pl.lit(None, pl.String))


def held_out_patients(validated_dir: str | Path | None, held_out_site: str | None) -> pl.Series:
    if not held_out_site or validated_dir is None:
        return pl.Series("patient_id", [], pl.String)
    return (read_validated(validated_dir, "encounters").filter(pl.col("site") == held_out_site)
            .select("patient_id").unique().collect()["patient_id"])


def leak_counts(paths, cutoff, exclude_periods, held_out_site, held_patients: pl.Series) -> dict:
    """How many clinical documents in the written files break an exclusion (must all be 0)."""
    lf = pl.concat([pl.scan_parquet(p) for p in paths]).filter(
        (pl.col("source") == CLINICAL) & ~pl.col("doc_id").str.starts_with(CANARY_PREFIX))
    reasons = (lf.with_columns(exclusion_reason(cutoff, exclude_periods, held_out_site, held_patients).alias("r"))
               .group_by("r").len().collect())
    out = {r: 0 for r in (AFTER_CUTOFF, EXCLUDED_PERIOD, HELD_OUT_SITE, HELD_OUT_PATIENT)}
    out.update({r: int(n) for r, n in reasons.iter_rows() if r is not None})
    return out


def _with_canaries(notes: pl.LazyFrame, canaries, n_notes: int, seed: int) -> pl.LazyFrame:
    """`notes` with every canary copy placed before a seeded note position, so that copies are
    spread through the source (adjacent copies would share one training window)."""
    import numpy as np

    copies = canary_documents(canaries)
    pos = np.random.default_rng([seed, 7]).integers(0, max(n_notes, 1), copies.height)
    copies = copies.with_columns(pl.lit(CLINICAL).alias("source"),
                                 *[pl.lit(None, MIX_COLUMNS[c]).alias(c) for c in ("note_time", "site", "patient_id")],
                                 pl.Series("_pos", pos, pl.Int64), pl.lit(0).alias("_tie"))
    notes = notes.with_row_index("_pos").with_columns(pl.col("_pos").cast(pl.Int64), pl.lit(1).alias("_tie"))
    return (pl.concat([notes, copies.lazy().select(notes.collect_schema().names())])
            .sort("_pos", "_tie", maintain_order=True).select(list(MIX_COLUMNS)))


def build_mix(weights: dict[str, float], clean_path: str | Path | None, general_path: str | Path | None,
              out_train: str | Path, out_val: str | Path, *, validated_dir: str | Path | None = None,
              cutoff: str | None = "2023-12-31", exclude_periods: list[dict] | None = None,
              held_out_site: str | None = None, val_fraction: float = 0.001, min_val_documents: int = 10,
              seed: int = 0, canaries: dict | None = None,
              modes: tuple[int, int] = (FILE_MODE, DIR_MODE)) -> dict:
    """Write the train/val documents of a mix (sources named in `weights`); return counts.
    They hold note text: created with `modes` (file, folder; owner-only by default).

    canaries: {per_count, repetitions} to insert into the clinical training documents (seeded
    by `seed`), or None."""
    if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"mix weights {weights} must be non-negative with a positive sum")
    held_patients = held_out_patients(validated_dir, held_out_site)
    parts, stats = [], {"weights": dict(weights), "sources": {}}
    if CLINICAL in weights:
        if clean_path is None:
            raise ValueError("mix uses source 'clinical' but no clean notes were given")
        lf = (pl.scan_parquet(clean_path).rename({"note_id": "doc_id"})
              .with_columns(exclusion_reason(cutoff, exclude_periods, held_out_site, held_patients).alias("_excl")))
        counts = lf.group_by("_excl").len().collect()
        excluded = {r: int(n) for r, n in counts.iter_rows() if r is not None}
        stats["clinical_exclusions"] = {r: excluded.get(r, 0)
                                        for r in (AFTER_CUTOFF, EXCLUDED_PERIOD, HELD_OUT_SITE, HELD_OUT_PATIENT)}
        stats["clinical_input_notes"] = int(counts["len"].sum())
        parts.append(lf.filter(pl.col("_excl").is_null()).with_columns(pl.lit(CLINICAL).alias("source"))
                     .select([pl.col(c).cast(d) for c, d in MIX_COLUMNS.items()]))
    others = [s for s in weights if s != CLINICAL]
    if others:
        if general_path is None:
            raise ValueError(f"mix uses general sources {others} but no general text was given")
        g = pl.scan_parquet(general_path)
        have = set(g.select("source").unique().collect()["source"])
        missing = [s for s in others if s not in have]
        if missing:
            raise ValueError(f"mix names source(s) {missing}; general text holds {sorted(have)} "
                             f"(add them to corpus.general.sources)")
        parts.append(g.filter(pl.col("source").is_in(others))
                     .with_columns(*[pl.lit(None, MIX_COLUMNS[c]).alias(c)
                                     for c in ("note_time", "site", "patient_id")])
                     .select([pl.col(c).cast(d) for c, d in MIX_COLUMNS.items()]))
    docs = pl.concat(parts).with_columns(pl.col("doc_id").hash(seed=seed).alias("_h"))
    # Validation: per source, the documents with the smallest id hashes (deterministic, no sort of
    # the text); at least min_val_documents so a tiny corpus still has a usable validation loss,
    # and never more than half a source.
    n_by = {s: int(n) for s, n in docs.group_by("source").len().collect().iter_rows()}
    for s in weights:
        if n_by.get(s, 0) < 2:
            raise ValueError(f"source {s!r} has {n_by.get(s, 0)} eligible document(s); a mix needs at least 2 "
                             f"(one for training, one for validation)")
    n_val = {s: min(max(math.ceil(val_fraction * n), min_val_documents), n // 2) for s, n in n_by.items()}
    thresholds = (docs.select("source", "_h").group_by("source")
                  .agg(pl.col("_h").bottom_k(max(n_val.values())).sort().alias("_hs")).collect())
    cut = {s: hs[n_val[s] - 1] for s, hs in thresholds.iter_rows()}
    is_val = pl.lit(False)
    for s, h in cut.items():
        is_val = is_val | ((pl.col("source") == s) & (pl.col("_h") <= h))
    docs = docs.with_columns(is_val.alias("_val"))
    Path(out_train).parent.mkdir(parents=True, exist_ok=True)
    inserted = make_canaries(seed, **canaries) if canaries and CLINICAL in weights else []
    stats["canaries"] = canary_manifest(inserted, seed) if inserted else None
    # Grouped by source (the shard writer streams one source at a time), input order within.
    # (one filtered scan per source, concatenated: no sort of the text)
    for out, flag in ((out_train, False), (out_val, True)):
        parts = []
        for s in sorted(n_by):
            part = docs.filter((pl.col("source") == s) & (pl.col("_val") == flag)).select(list(MIX_COLUMNS))
            if inserted and s == CLINICAL and not flag:
                part = _with_canaries(part, inserted, n_by[s] - n_val[s], seed)
            parts.append(part)
        with published_file(out, *modes) as tmp:
            pl.concat(parts).sink_parquet(tmp)
    for split, out in (("train", out_train), ("val", out_val)):
        c = pl.scan_parquet(out).group_by("source").agg(pl.len().alias("documents"),
                                                         pl.col("text").str.len_bytes().sum().alias("chars")).collect()
        for s, n, ch in c.iter_rows():
            stats["sources"].setdefault(s, {})[split] = {"documents": int(n), "chars": int(ch)}
    stats["leak_check"] = leak_counts([out_train, out_val], cutoff, exclude_periods, held_out_site, held_patients)
    if any(stats["leak_check"].values()):
        raise AssertionError(f"excluded notes entered pretraining: {stats['leak_check']}")
    stats["rules"] = {"cutoff": str(cutoff) if cutoff else None, "exclude_periods": exclude_periods or [],
                      "held_out_site": held_out_site, "val_fraction": val_fraction,
                      "min_val_documents": min_val_documents}
    log.info("mix %s: %s; exclusions %s; leak check %s", weights, stats["sources"],
             stats.get("clinical_exclusions"), stats["leak_check"])
    return stats
