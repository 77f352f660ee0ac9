"""Read the evaluation tables (`R/tables/*.csv`) for plotting; their schemas are the ones the
evaluate stage writes by (`TABLE_SCHEMAS` in lang1core/contracts.py), so the two cannot drift apart.

Figures read nothing else. A table that is missing or has no rows reads as an empty frame
(the figure then draws "not run" panels); a table that lacks a schema column is an error
that names the file and the column, because silently plotting the wrong thing is worse than
stopping.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import polars as pl

from lang1core.contracts import TABLE_SCHEMAS, empty_table, parse_snapshot, table_schema
from lang1core.contracts import read_table as contract_table

log = logging.getLogger(__name__)

S = pl.String

KINDS_FINETUNED = ("finetune", "joint", "scratch")


def read_table(path: str | Path, table: str | None = None) -> pl.DataFrame:
    """One contract table, typed. Missing file or no rows -> empty frame with the schema."""
    path = Path(path)
    table = table or path.stem
    table_schema(table, path)
    if not path.exists() or path.stat().st_size == 0:
        log.info("%s: missing or empty; panels that need it will say 'not run'", path)
        return empty_table(table)
    return contract_table(path, table, lenient=True)


_EFFICIENCY = re.compile(r"^(?P<task>[a-z0-9_]+)-n(?P<n>\d+)$")


def infer_runs(df: pl.DataFrame) -> pl.DataFrame:
    """Run metadata guessed from names when runs.csv is absent (finetune's naming rules)."""
    rows = []
    for model, recipe in df.select("model", "recipe").unique().iter_rows():
        kind, base, task, n = "finetune", model, None, None
        snap = parse_snapshot(model)
        eff = _EFFICIENCY.match(recipe)
        if model == "tfidf":
            kind, base, task = "tfidf", None, recipe
        elif snap:
            kind, base = "trajectory", snap[0]
        elif recipe in ("zeroshot", "kshot", "joint"):
            kind = recipe
        elif model == "scratch":
            kind, base, task = "scratch", None, recipe
        elif eff:
            kind, task, n = "efficiency", eff.group("task"), int(eff.group("n"))
        else:
            task = recipe
        rows.append({"model": model, "recipe": recipe, "kind": kind, "base": base,
                     "train_task": task, "n_train": n, "pretrain_tokens": None,
                     "finetune_tokens": None})
    return pl.DataFrame(rows, schema=TABLE_SCHEMAS["runs"]) if rows else empty_table("runs")


class Tables:
    """The tables directory, read lazily and cached; `metrics()` joins AUROC with run info."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self._cache: dict[str, pl.DataFrame] = {}

    def __getitem__(self, table: str) -> pl.DataFrame:
        if table not in self._cache:
            self._cache[table] = read_table(self.dir / f"{table}.csv", table)
        return self._cache[table]

    def with_runs(self, table: str) -> pl.DataFrame:
        """`table` joined with runs.csv on (model, recipe); kind etc. inferred if absent.

        Adds `series`: the base model a run belongs to (its colour and legend entry).
        """
        key = f"{table}+runs"
        if key not in self._cache:
            self._cache[key] = self._with_runs(table)
        return self._cache[key]

    def _with_runs(self, table: str) -> pl.DataFrame:
        df = self[table]
        if df.is_empty():
            return df.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in
                                    TABLE_SCHEMAS["runs"].items() if c not in df.columns]
                                   + [pl.lit(None, dtype=S).alias("series")])
        runs = self["runs"]
        if runs.is_empty():
            runs = infer_runs(df)
        runs = runs.unique(subset=["model", "recipe"], keep="first")
        out = df.join(runs, on=["model", "recipe"], how="left")
        missing = out.filter(pl.col("kind").is_null()).select("model", "recipe").unique()
        if missing.height:
            log.warning("%s: %d (model, recipe) pairs not in runs.csv; kind inferred from "
                        "names", table, missing.height)
            guessed = infer_runs(missing)
            out = out.update(guessed.select("model", "recipe", "kind", "base", "train_task",
                                             "n_train"), on=["model", "recipe"], how="left")
        return out.with_columns(
            pl.when(pl.col("base").is_not_null() & (pl.col("kind") != "tfidf"))
            .then(pl.col("base")).otherwise(pl.col("model")).alias("series"))

    def metrics(self) -> pl.DataFrame:
        return self.with_runs("auroc")


def dataset_tables(directory: str | Path) -> dict[str, Path]:
    """`B1..B7` -> the CSV in the tables directory whose name starts with it (B1_*.csv)."""
    out: dict[str, Path] = {}
    for p in sorted(Path(directory).glob("B*.csv")):
        m = re.match(r"^(B\d+)(?:[_\-.].*)?$", p.stem)
        if m and m.group(1) not in out:
            out[m.group(1)] = p
    return out
