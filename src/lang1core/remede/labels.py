"""Candidate examples and labels of the five tasks from the export contract's tables.

Each function takes typed frames (as `read_validated` gives them, collected) and returns
`(examples, drops)`: examples have encounter_id, patient_id and `label` (LOS: `los_value`,
binned later on the train split's quartiles); drops is a list of (reason, count) so the
manifest can account for every stay that did not become an example.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lang1core.charlson import METHOD as CCI_METHOD
from lang1core.charlson import cci_bin, charlson_index
from lang1core.remede.config import BuildConfig

Drops = list[tuple[str, int]]

# Note parts (several narrative fields of one note) are joined with a blank line, as the
# export contract and the corpus stage do.
PART_SEPARATOR = "\n\n"


def join_note_parts(notes: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """One row per note_id with its parts' text joined in `part` order."""
    lf = notes.lazy()
    if "part" not in lf.collect_schema().names():
        return lf
    return (lf.sort(["note_id", "part"])
            .group_by("note_id", maintain_order=True)
            .agg(pl.col("patient_id", "encounter_id", "note_type", "note_time").first(),
                 pl.col("text").fill_null("").str.join(PART_SEPARATOR)))


def stays(encounters: pl.DataFrame, cfg: BuildConfig) -> tuple[pl.DataFrame, Drops]:
    """Hospital stays every task starts from: encounters of the configured classes."""
    keep = encounters.filter(pl.col("encounter_class").is_in(list(cfg.encounter_classes)))
    return keep, [(f"encounter class not in {list(cfg.encounter_classes)}", encounters.height - keep.height)]


def select_notes(stays_df: pl.DataFrame, notes: pl.LazyFrame, note_types: list[str],
                 max_hours: float | None) -> tuple[pl.DataFrame, Drops]:
    """One note per stay: the first note type of `note_types` the stay has (priority order),
    earliest note of that type; notes written more than `max_hours` after admission removed.

    Returns stays_df joined with note_id, note_type, note_time and text; stays without a
    usable note are dropped and counted."""
    prio = pl.DataFrame({"note_type": note_types, "_prio": list(range(len(note_types)))},
                        schema={"note_type": pl.String, "_prio": pl.Int64})
    ids = stays_df.select("encounter_id", "admit_time")
    cand = (notes.filter(pl.col("encounter_id").is_not_null() & pl.col("note_type").is_in(note_types))
            .join(ids.lazy(), on="encounter_id", how="inner")
            .join(prio.lazy(), on="note_type", how="inner")
            .collect())
    drops: Drops = []
    if max_hours is not None:
        late = (pl.col("note_time") - pl.col("admit_time")) > pl.duration(seconds=int(max_hours * 3600))
        had = set(cand["encounter_id"].to_list())
        cand = cand.filter(~late)
        lost = len(had - set(cand["encounter_id"].to_list()))
        drops.append((f"only notes written more than {max_hours:g} h after admission", lost))
    best = (cand.sort(["encounter_id", "_prio", "note_time", "note_id"])
            .unique("encounter_id", keep="first", maintain_order=True)
            .select("encounter_id", "note_id", "note_type", "note_time", "text"))
    out = stays_df.join(best, on="encounter_id", how="inner", maintain_order="left")
    missing = stays_df.height - out.height - sum(n for _, n in drops)
    drops.insert(0, (f"no {' or '.join(note_types)} note", missing))
    empty = out["text"].is_null() | (out["text"].str.strip_chars().str.len_chars() == 0)
    drops.append(("empty note text", int(empty.sum())))
    return out.filter(~empty), drops


def _need_discharge(df: pl.DataFrame) -> tuple[pl.DataFrame, Drops]:
    keep = df.filter(pl.col("discharge_time").is_not_null())
    return keep, [("no discharge time (still in hospital)", df.height - keep.height)]


def readmission(stays_df: pl.DataFrame, all_encounters: pl.DataFrame, cfg: BuildConfig) -> tuple[pl.DataFrame, Drops]:
    """Label 1 when the patient's next admission of a readmission class starts within
    `readmission_days` days (inclusive) after discharge. Index stays in excluded departments
    are dropped; so are stays whose follow-up window runs past the export's last admission
    (the label would be censored)."""
    df, drops = _need_discharge(stays_df)
    excluded = pl.col("department").is_in(list(cfg.readmission_excluded_departments)).fill_null(False)
    for dept in cfg.readmission_excluded_departments:
        drops.append((f"excluded department: {dept}", int((df["department"] == dept).sum())))
    df = df.filter(~excluded)
    if cfg.readmission_exclude_expired:
        # Without a disposition it is unknown whether the stay ended in death.
        unknown = pl.col("discharge_disposition").is_null()
        drops.append(("no discharge disposition", int(df.select(unknown.sum()).item())))
        df = df.filter(~unknown)
        died = pl.col("discharge_disposition").is_in(list(cfg.mortality_dispositions))
        drops.append(("index stay ended in death", int(df.select(died.sum()).item())))
        df = df.filter(~died)
    later = (all_encounters.filter(pl.col("encounter_class").is_in(list(cfg.readmission_classes)))
             .select("patient_id", pl.col("admit_time").alias("_next"), pl.col("encounter_id").alias("_next_id")))
    window = pl.duration(days=cfg.readmission_days)
    # The first qualifying admission after this discharge (joined per patient; a patient has
    # few stays, so the cross join within a patient is small).
    nxt = (df.select("encounter_id", "patient_id", "discharge_time")
           .join(later, on="patient_id", how="inner")
           .filter((pl.col("_next") >= pl.col("discharge_time")) & (pl.col("_next_id") != pl.col("encounter_id")))
           .group_by("encounter_id").agg(pl.col("_next").min()))
    df = df.join(nxt, on="encounter_id", how="left", maintain_order="left")
    df = df.with_columns(label=((pl.col("_next") - pl.col("discharge_time")) <= window).fill_null(False).cast(pl.Int64))
    end = all_encounters["admit_time"].max()
    censored = (pl.col("label") == 0) & ((pl.col("discharge_time") + window) > pl.lit(end))
    drops.append((f"follow-up of {cfg.readmission_days} days runs past the export's end",
                  int(df.select(censored.sum()).item())))
    return df.filter(~censored).drop("_next"), drops


def mortality(stays_df: pl.DataFrame, cfg: BuildConfig) -> tuple[pl.DataFrame, Drops]:
    """Label 1 when the discharge disposition is one of `mortality_dispositions` ("expired").
    A stay without a disposition has no label (an empty field is not "survived"): dropped."""
    df, drops = _need_discharge(stays_df)
    known = df.filter(pl.col("discharge_disposition").is_not_null())
    drops.append(("no discharge disposition", df.height - known.height))
    lab = pl.col("discharge_disposition").is_in(list(cfg.mortality_dispositions)).cast(pl.Int64)
    return known.with_columns(label=lab), drops


def los_value(cfg: BuildConfig) -> pl.Expr:
    """Length of stay in days: whole 24 h periods (calendar_days) or fractional (continuous)."""
    secs = (pl.col("discharge_time") - pl.col("admit_time")).dt.total_seconds()
    days = secs / 86400.0
    return (days.floor() if cfg.los_unit == "calendar_days" else days).alias("los_value")


def los(stays_df: pl.DataFrame, cfg: BuildConfig) -> tuple[pl.DataFrame, Drops]:
    """LOS in days (`los_value`); binned once the train split's quartiles are known."""
    df, drops = _need_discharge(stays_df)
    return df.with_columns(los_value(cfg)), drops


def los_edges_from(values: pl.Series, unit: str) -> list[float]:
    """Upper bin edges at the quartiles of `values` (the train split's LOS).

    calendar_days: lower quartiles on whole days, bumped so edges strictly increase (ties at
    short stays would otherwise merge bins); continuous: quartiles rounded to 0.1 day."""
    v = values.drop_nulls().sort()
    if v.len() == 0:
        return []
    if unit == "calendar_days":
        edges = [int(v.quantile(q, "lower")) for q in (0.25, 0.5, 0.75)]
        for i in range(1, 3):
            edges[i] = max(edges[i], edges[i - 1] + 1)
        return edges
    edges = [round(float(v.quantile(q, "linear")), 1) for q in (0.25, 0.5, 0.75)]
    for i in range(1, 3):
        edges[i] = max(edges[i], round(edges[i - 1] + 0.1, 1))
    return edges


def day_probs_to_bins(day_probs: np.ndarray, edges) -> np.ndarray:
    """Probabilities over whole days 0, 1, ..., D-2 and ">= D-1" (one row per stay) mapped to
    the LOS bins of `los_bin` (whole-day unit). Every edge must be a whole day below D - 1, so
    the last, open-ended day bucket falls in the last bin."""
    edges = [float(e) for e in edges]
    last = day_probs.shape[1] - 1
    if any(e != int(e) or not 0 <= e < last for e in edges):
        raise ValueError(f"LOS edges {edges} are not whole days in [0, {last})")
    cls = np.searchsorted(np.array(edges), np.arange(day_probs.shape[1]), side="left")
    out = np.zeros((len(day_probs), len(edges) + 1))
    np.add.at(out.T, cls, day_probs.T)
    return out


def los_bin(edges: list[float]) -> pl.Expr:
    """Bin index of `los_value`: bins (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    out = pl.lit(0, pl.Int64)
    for e in edges:
        out = out + (pl.col("los_value") > e).cast(pl.Int64)
    return out


def cci(stays_df: pl.DataFrame, diagnoses: pl.DataFrame) -> tuple[pl.DataFrame, Drops, dict]:
    """Label = study CCI bin (0, 1-2, 3-4, 5-7, >7) of the Charlson index of the encounter's
    codes (lang1core.charlson: pycomorb, Quan mapping, Charlson weights, no age points).
    Encounters without codes are excluded and counted."""
    dx = diagnoses.filter(pl.col("encounter_id").is_in(stays_df["encounter_id"].implode()))
    versions = set(dx["icd_version"].unique().to_list()) if "icd_version" in dx.columns else {"icd10"}
    if versions <= {"icd10"}:
        scores = charlson_index(dx, icd_version="icd10")
    elif versions <= {"icd9"}:
        scores = charlson_index(dx, icd_version="icd9")
    else:
        scores = charlson_index(dx, icd_version="icd9_10")
    df = stays_df.join(scores, on="encounter_id", how="inner", maintain_order="left")
    drops = [("no ICD codes for the encounter", stays_df.height - df.height)]
    method = {**CCI_METHOD, "icd_versions": sorted(versions)}
    return df.with_columns(label=cci_bin(pl.col("cci")).cast(pl.Int64)), drops, method


def denial(stays_df: pl.DataFrame, claims: pl.DataFrame, cfg: BuildConfig) -> tuple[pl.DataFrame, Drops]:
    """Label 1 when any claim of the stay ends in one of `denial_statuses` (a claim denied at
    first counts whatever the appeal decided). Stays without a claim are excluded; so are
    stays none of whose claims is denied while one still awaits its determination (the
    label is not known yet)."""
    denied = pl.col("status").is_in(list(cfg.denial_statuses))
    per = claims.group_by("encounter_id").agg(
        label=denied.any().cast(pl.Int64),
        _pending=(~denied & pl.col("determination_date").is_null()).any())
    df = stays_df.join(per, on="encounter_id", how="inner", maintain_order="left")
    drops = [("no claim for the encounter", stays_df.height - df.height)]
    pending = (pl.col("label") == 0) & pl.col("_pending")
    drops.append(("claim still pending (no determination date)", int(df.select(pending.sum()).item())))
    return df.filter(~pending).drop("_pending"), drops
