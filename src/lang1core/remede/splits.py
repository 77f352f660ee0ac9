"""Time-based splits and the seen-patient flag (study Appendix L).

- `external`: every example of the held-out site that falls in one of the task's windows;
  the site appears in no other split.
- inside the training window: train/val/test 8:1:1 by a seeded hash, by patient by default
  (a patient's notes are near-duplicates of each other across stays, so an encounter-level
  split would let the i.i.d. test reward memorising patients; seen patients are then measured
  on the temporal splits, where they occur naturally);
- `temporal`, `temporal_2024`: the windows after training.
Examples in no window are dropped and counted.
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from lang1core.remede.config import BuildConfig, Windows


def unit_hash(keys: list[str], seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per key, stable across runs, platforms and library versions."""
    out = np.empty(len(keys), dtype=np.float64)
    prefix = f"{seed}:".encode()
    for i, k in enumerate(keys):
        h = hashlib.blake2b(prefix + k.encode(), digest_size=8).digest()
        out[i] = int.from_bytes(h, "big") / 2.0**64
    return out


def assign_splits(df: pl.DataFrame, windows: Windows, cfg: BuildConfig) -> tuple[pl.DataFrame, list[tuple[str, int]]]:
    """Add `split` to examples with note_date (Date), site, patient_id, encounter_id."""
    d = pl.col("note_date")
    window = pl.lit(None, pl.String)
    for name, (a, b) in reversed(list(windows.items())):
        window = pl.when((d >= a) & (d <= b)).then(pl.lit(name)).otherwise(window)
    df = df.with_columns(_window=window)
    key = "patient_id" if cfg.split_by == "patient" else "encounter_id"
    keys = df[key].unique().sort()
    u = pl.DataFrame({key: keys, "_u": unit_hash(keys.to_list(), cfg.seed)})
    df = df.join(u, on=key, how="left", maintain_order="left")
    f_train, f_val, _ = cfg.split_fractions
    random = (pl.when(pl.col("_u") < f_train).then(pl.lit("train"))
              .when(pl.col("_u") < f_train + f_val).then(pl.lit("val")).otherwise(pl.lit("test")))
    external = (pl.col("site") == cfg.held_out_site) if cfg.held_out_site else pl.lit(False)
    split = (pl.when(pl.col("_window").is_null()).then(pl.lit(None, pl.String))
             .when(external).then(pl.lit("external"))
             .when(pl.col("_window") == "train").then(random)
             .otherwise(pl.col("_window")))
    df = df.with_columns(split=split)
    outside = int(df["split"].is_null().sum())
    return df.filter(pl.col("split").is_not_null()).drop("_window", "_u"), [("note date outside every split window", outside)]


def mark_seen(examples: dict[str, pl.DataFrame], scope: str) -> dict[str, pl.DataFrame]:
    """seen_patient: the patient has a train example (in any task, or in the same task)."""
    if scope == "all_tasks":
        seen_all = pl.concat([df.filter(pl.col("split") == "train").select("patient_id") for df in examples.values()]
                             or [pl.DataFrame({"patient_id": []}, schema={"patient_id": pl.String})]).unique()
    out = {}
    for task, df in examples.items():
        seen = seen_all if scope == "all_tasks" else df.filter(pl.col("split") == "train").select("patient_id").unique()
        out[task] = df.with_columns(seen_patient=pl.col("patient_id").is_in(seen["patient_id"].implode()))
    return out
