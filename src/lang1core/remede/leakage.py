"""Leakage check: an input note must not state what its label is (e.g. a mortality H&P that
says "expired" or "time of death"). Each task has its own case-insensitive patterns; the
build reports matches per pattern and label and fails when a task's matched share exceeds
the configured rate."""

from __future__ import annotations

import polars as pl


class LeakageError(RuntimeError):
    """A task's notes give their labels away more often than allowed."""


def leakage_report(df: pl.DataFrame, patterns: list[str], max_rate: float) -> dict:
    """Matches of `patterns` in `df["text"]`: per pattern (all, positive = label > 0), total
    share of examples matching any pattern, and whether that share is within `max_rate`."""
    n = df.height
    if n == 0 or not patterns:
        return {"n": n, "matched": 0, "rate": 0.0, "max_rate": max_rate, "ok": True, "patterns": {}, "examples": []}
    hits = df.select(
        *[pl.col("text").str.contains(f"(?i){p}").alias(f"_p{i}") for i, p in enumerate(patterns)],
        pl.col("label"), pl.col("example_id"))
    any_hit = pl.any_horizontal([pl.col(f"_p{i}") for i in range(len(patterns))])
    per = {p: {"matched": int(hits[f"_p{i}"].sum()),
               "matched_positive": int(hits.filter(pl.col("label") > 0)[f"_p{i}"].sum())}
           for i, p in enumerate(patterns)}
    matched = hits.filter(any_hit)
    rate = matched.height / n
    return {"n": n, "matched": matched.height, "rate": rate, "max_rate": max_rate, "ok": rate <= max_rate,
            "patterns": per, "examples": matched["example_id"].head(5).to_list()}
