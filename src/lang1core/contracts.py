"""The files stages hand each other, defined once: the evaluation tables' schemas, the
prediction files' columns, the keys of a prediction run's run.json, and the grammar of run
names (a pretraining snapshot is `{model}-s{i}`; `scratch` is a random initialisation).

Producers write by these definitions, consumers read by them and tests build their fixtures
from them, so a change here is a change to every side at once.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

# --- run names ---------------------------------------------------------------------------

SCRATCH = "scratch"  # a random initialisation: no pretrained model behind it
_SNAPSHOT = re.compile(r"^(?P<base>.+)-s(?P<i>\d+)$")


def snapshot_name(model: str, i: int) -> str:
    """The name of pretraining snapshot `i` of `model`: `lang1`, 3 -> `lang1-s3`."""
    return f"{model}-s{i}"


def parse_snapshot(name: str) -> tuple[str, int] | None:
    """`lang1-s3` -> ("lang1", 3); None for a name that is not a snapshot's."""
    m = _SNAPSHOT.match(name)
    return (m.group("base"), int(m.group("i"))) if m else None


def strip_snapshot(name: str) -> str:
    """`lang1-s3` -> `lang1`; any other name unchanged (a model and its snapshots share a
    colour and a legend entry)."""
    snap = parse_snapshot(name)
    return snap[0] if snap else name


def base_model(name: str) -> str | None:
    """The pretrained model a run starts from, by name: `lang1` for `lang1` and its snapshots
    `lang1-s3`; None for a random initialisation (`scratch`)."""
    return None if name == SCRATCH else strip_snapshot(name)


# --- prediction files: predictions/{model}/{recipe}/{task}/{split}.parquet -----------------

ID_COLUMNS = ("example_id", "patient_id", "label")
PROB_PREFIX = "prob_"  # prob_0..prob_{K-1}, one per answer option in the option order
QA_PPL = "qa_ppl"


def prob_column(k: int) -> str:
    return f"{PROB_PREFIX}{k}"


def n_prob_columns(columns) -> int:
    """K of a prediction frame: the length of the unbroken run prob_0, prob_1, ..."""
    k = 0
    while prob_column(k) in columns:
        k += 1
    return k


# --- run.json beside a run's predictions ---------------------------------------------------

# Written in this order by every kind of run (null where a kind has no value); a run may add
# keys of its own after these.
RUN_JSON_KEYS = ("model", "recipe", "kind", "base", "train_task", "n_train", "k", "pretrain_tokens",
                 "finetune_tokens", "lr", "seed")

# --- evaluation tables: R/tables/{name}.csv ------------------------------------------------

F, I, S = pl.Float64, pl.Int64, pl.String  # noqa: E741 - one-letter dtypes keep the schemas readable
TABLE_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "runs": {"model": S, "recipe": S, "kind": S, "base": S, "train_task": S, "n_train": I,
             "pretrain_tokens": I, "finetune_tokens": I},
    "auroc": {"model": S, "recipe": S, "task": S, "split": S, "subset": S, "n": I, "n_pos": I,
              "auroc": F, "ci_low": F, "ci_high": F, "status": S, "ci_method": S, "auroc_micro": F,
              "ece": F, "oracle_auroc": F, "oracle_share": F, "qa_ppl": F, "accuracy": F},
    "calibration": {"model": S, "recipe": S, "task": S, "split": S, "bin": I, "lower": F, "upper": F,
                    "confidence": F, "accuracy": F, "count": I, "status": S},
    "strata": {"model": S, "recipe": S, "task": S, "split": S, "attribute": S, "group": S, "n": I,
               "n_pos": I, "auroc": F, "ci_low": F, "ci_high": F, "status": S, "ci_method": S},
    "alerts": {"model": S, "recipe": S, "task": S, "split": S, "alert_rate": F, "threshold": F,
               "flagged": I, "sensitivity": F, "ppv": F, "status": S},
    "conditional": {"direction": S, "given": S, "outcome": S, "probability": F, "n": I, "status": S},
    # The study's claims judged (lang1core/evaluate/claims.py): one row per claim, statistic and task.
    "claims": {"claim": S, "statistic": S, "task": S, "split": S, "compared": S, "estimate": F,
               "lo": F, "hi": F, "n": I, "n_patients": I, "n_valid": I, "verdict": S, "rule": S,
               "reason": S, "ci_method": S, "n_bootstrap": I},
}
# Spellings of a missing value a table edited or exported by another tool may hold.
LENIENT_NULLS = ["", "NA", "null", "None", "nan", "NaN"]


def table_schema(name: str, path: str | Path | None = None) -> dict[str, pl.DataType]:
    if name not in TABLE_SCHEMAS:
        raise ValueError(f"{path or name}: unknown table {name!r}; expected one of {sorted(TABLE_SCHEMAS)}")
    return TABLE_SCHEMAS[name]


def empty_table(name: str) -> pl.DataFrame:
    return pl.DataFrame(schema=table_schema(name))


def table_frame(name: str, rows: list[dict]) -> pl.DataFrame:
    """Rows (dicts; a key the schema lacks is dropped, a missing one is null) as a typed table."""
    schema = table_schema(name)
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema, orient="row")


def read_table(path: str | Path, name: str, *, lenient: bool = False) -> pl.DataFrame:
    """A table typed by its schema; a missing column is an error naming the file (a header-only
    table reads as no rows). `lenient` also reads NA/None/NaN as null and a value that does not
    parse as null, for tables a person may have edited; otherwise a bad value is an error."""
    schema = table_schema(name, path)
    df = pl.read_csv(path, infer_schema_length=0, null_values=LENIENT_NULLS if lenient else None)
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; the {name} table needs {list(schema)}")
    strict = not lenient
    # Integers go through Float64 so that `3.0` (a float-typed writer's integer) reads as 3.
    casts = [pl.col(c).cast(S) if t == S else pl.col(c).cast(F, strict=strict).cast(t, strict=strict)
             for c, t in schema.items()]
    try:
        return df.select(casts)
    except pl.exceptions.InvalidOperationError as e:
        raise ValueError(f"{path}: a value does not parse as its column's type in the {name} table "
                         f"({dict(schema)}): {e}") from e
