"""Evaluate one (model, recipe) run: join its predictions to the ReMedE examples (and the
synthetic hospital's oracle), score every evaluated split, write one metrics JSON.

Predictions: `predictions/{model}/{recipe}/{task}/{split}.parquet` (example_id, patient_id,
label, prob_0..prob_{K-1}, qa_ppl) and `run.json`. Examples: `remede/{task}/{split}.parquet`
(encounter_id, seen_patient and the strata columns). Oracle: `oracle/oracle.parquet` (task,
encounter_id, probs, label), only for the synthetic source.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import polars as pl

from lang1core.contracts import n_prob_columns, prob_column
from lang1core.evaluate.metrics import EvalSettings, score_split
from lang1core.provenance import provenance
from lang1core.publish import write_json
from lang1core.remede.labels import day_probs_to_bins

log = logging.getLogger(__name__)

REMEDE_COLUMNS = ("example_id", "encounter_id", "patient_id", "label", "seen_patient", "options")


class PredictionError(ValueError):
    """A prediction file that does not match the contract or its ReMedE examples."""


def task_split(path: str | Path) -> tuple[str, str]:
    """`.../{task}/{split}.parquet` -> (task, split)."""
    p = Path(path)
    return p.parent.name, p.stem


def prob_columns(df: pl.DataFrame, path) -> int:
    k = n_prob_columns(df.columns)
    if k < 2:
        raise PredictionError(f"{path}: needs columns prob_0..prob_{{K-1}} with K >= 2, found {df.columns}")
    return k


# A probability row may sum to 1 within this (float32 softmax outputs written as float64).
SUM_TOLERANCE = 1e-3


def _rows(pred: pl.DataFrame, ids: pl.Series, n: int = 3) -> list[int]:
    """1-based rows of `pred` holding the first `n` of `ids` (rows, not ids, go in messages)."""
    idx = pred.with_row_index("_row", offset=1).filter(pl.col("example_id").is_in(ids.head(n).implode()))
    return idx["_row"].to_list()


def check_probabilities(pred: pl.DataFrame, k: int, path, partial: bool = False) -> None:
    """Refuse NaN, infinite or out-of-[0, 1] probabilities and rows not summing to 1 (within
    SUM_TOLERANCE), naming the file, the first bad row (1-based) and what is wrong. A null is
    a missing prediction, counted later; `partial` rows (the probe) leave absent options null."""
    cols = [prob_column(c) for c in range(k)]
    p = pred.select([pl.col(c).cast(pl.Float64, strict=False) for c in cols]).with_row_index("_row", offset=1)
    for c in cols:
        bad = p.filter(pl.col(c).is_nan() | pl.col(c).is_infinite() | (pl.col(c) < 0) | (pl.col(c) > 1))
        if len(bad):
            v = bad[c][0]
            why = "NaN" if v != v else "infinite" if abs(v) == float("inf") else f"{v:g}, outside [0, 1]"
            raise PredictionError(f"{path}, row {bad['_row'][0]}, column {c}: probability is {why} "
                                  f"({len(bad)} row(s) like it)")
    total = pl.sum_horizontal([pl.col(c).fill_null(0.0) for c in cols])
    scored = pl.col(cols[0]).is_not_null() if partial else pl.all_horizontal([pl.col(c).is_not_null() for c in cols])
    bad = p.filter(scored & ((total - 1.0).abs() > SUM_TOLERANCE))
    if len(bad):
        s = bad.select(total)[0, 0]
        raise PredictionError(f"{path}, row {bad['_row'][0]}: probabilities sum to {s:.6g}, not 1 "
                              f"(within {SUM_TOLERANCE:g}; {len(bad)} row(s) like it)")


def load_split(pred_path, remede_path, oracle: pl.DataFrame | None,
               strata: list[str]) -> tuple[pl.DataFrame, int, list | None, dict]:
    """Predictions joined to their examples (and oracle). Returns (frame, K, options, dropped)."""
    task, split = task_split(pred_path)
    pred = pl.read_parquet(pred_path)
    for col in ("example_id", "label"):
        if col not in pred.columns:
            raise PredictionError(f"{pred_path}: missing column {col!r} (has {pred.columns})")
    k = prob_columns(pred, pred_path)
    check_probabilities(pred, k, pred_path, partial=task == "probe")
    pred = pred.with_columns(pl.col("example_id").cast(pl.String))
    schema = pl.read_parquet_schema(remede_path)
    want = [c for c in (*REMEDE_COLUMNS, *strata) if c in schema]
    ex = pl.read_parquet(remede_path, columns=want).with_columns(pl.col("example_id").cast(pl.String))
    ex = ex.rename({c: f"remede_{c}" for c in ("label", "patient_id") if c in ex.columns})
    options = None
    if "options" in ex.columns and len(ex):
        options = ex["options"][0].to_list()
        if len(options) != k and task != "probe":
            raise PredictionError(f"{pred_path}: {k} probability columns but {remede_path} has "
                                  f"{len(options)} options {options}")
    ex = ex.drop("options", strict=False)
    df = pred.join(ex, on="example_id", how="left", maintain_order="left")
    unknown = df.filter(pl.col("remede_label").is_null()) if "remede_label" in df.columns else df
    if len(unknown):
        raise PredictionError(f"{pred_path}: {len(unknown)} example_id(s) not in {remede_path}, "
                              f"e.g. at row(s) {_rows(pred, unknown['example_id'])}")
    bad = df.filter(pl.col("label").cast(pl.Int64) != pl.col("remede_label").cast(pl.Int64))
    if len(bad):
        raise PredictionError(f"{pred_path}: label differs from {remede_path} for {len(bad)} example(s), "
                              f"e.g. at row(s) {_rows(pred, bad['example_id'])}")
    if "patient_id" not in df.columns:
        df = df.rename({"remede_patient_id": "patient_id"})
    dropped = {"not_predicted": len(ex) - ex.join(pred.select("example_id"), on="example_id", how="semi").height}
    probs = [pl.col(prob_column(c)) for c in range(k)]
    ok = pl.all_horizontal([p.is_not_null() & p.cast(pl.Float64).is_finite() for p in probs])
    if task == "probe":  # options vary by question: absent options carry null probability
        ok = pl.col(prob_column(0)).is_not_null()
        df = df.with_columns([p.fill_null(0.0) for p in probs])
    dropped["missing_probability"] = int(df.filter(~ok).height)
    df = df.filter(ok).with_columns(pl.col("label").cast(pl.Int64))
    if oracle is not None and "encounter_id" in df.columns:
        o = oracle_for_task(oracle, task, remede_path)
        if len(o):
            df = df.with_columns(pl.col("encounter_id").cast(pl.String)).join(
                o, on="encounter_id", how="left", maintain_order="left")
    for c, n in dropped.items():
        if n:
            log.info("%s/%s: %d row(s) %s", task, split, n, c)
    return df, k, options, dropped


def oracle_for_task(oracle: pl.DataFrame, task: str, remede_path) -> pl.DataFrame:
    """The oracle's (encounter_id, oracle_probs) of one task, in the task's classes.

    The oracle states its class definition per row (`classes`): "options" (the task's own
    options) or, for LOS, "days" (a distribution over whole days, mapped here to the bins the
    ReMedE build chose, read from its manifest). Anything else is refused: an oracle scored
    on classes other than the task's would report a wrong AUROC without complaint."""
    o = oracle.filter(pl.col("task") == task)
    if o.is_empty():
        return o.select(pl.col("encounter_id").cast(pl.String), pl.col("probs").alias("oracle_probs"))
    classes = set(o["classes"].unique().to_list()) if "classes" in o.columns else {None}
    want = "days" if task == "los" else "options"
    if classes != {want}:
        raise PredictionError(f"oracle: task {task!r} gives classes {sorted(map(str, classes))}, "
                              f"expected {want!r} (regenerate the oracle with this version of lang1)")
    probs = o["probs"]
    if task == "los":
        manifest = Path(remede_path).parent.parent / "manifest.json"
        try:
            los = json.loads(manifest.read_text())["tasks"]["los"]["los"]
        except (OSError, KeyError, ValueError) as e:
            raise PredictionError(f"{manifest}: no LOS bin edges to map the oracle's days to ({e})") from None
        if los.get("unit") != "calendar_days":
            raise PredictionError(f"{manifest}: LOS unit {los.get('unit')!r}; the oracle maps whole days only")
        mapped = day_probs_to_bins(np.array(probs.to_list(), dtype=np.float64), los["edges"])
        probs = pl.Series(mapped.tolist(), dtype=pl.List(pl.Float64))
    return pl.DataFrame({"encounter_id": o["encounter_id"].cast(pl.String), "oracle_probs": probs})


def _clean(obj):
    """JSON without NaN/inf (-> null), numpy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def evaluate_run(predictions: list[str], remede: list[str], run_json: str | None, out: str | Path,
                 settings: EvalSettings, seed: int, config=None, oracle: str | None = None,
                 model: str | None = None, recipe: str | None = None) -> dict:
    """Score every prediction file whose split is in `settings.splits`; write `out` (JSON)."""
    remede_by = {task_split(p): p for p in remede}
    run = json.loads(Path(run_json).read_text()) if run_json else {}
    oracle_df = pl.read_parquet(oracle) if oracle else None
    results, dropped, files = [], {}, {}
    for path in sorted(predictions, key=lambda p: task_split(p)):
        if not str(path).endswith(".parquet"):
            continue
        task, split = task_split(path)
        if split not in settings.splits:
            continue
        if (task, split) not in remede_by:
            raise PredictionError(f"{path}: no ReMedE file for task {task!r} split {split!r} among the inputs")
        df, k, options, drop = load_split(path, remede_by[(task, split)], oracle_df, settings.strata)
        log.info("scoring %s/%s: %d rows, %d classes", task, split, len(df), k)
        results.append(score_split(df, k, task, split, settings, seed, options))
        dropped[f"{task}/{split}"] = drop
        files[f"predictions/{task}/{split}"] = path
        files[f"remede/{task}/{split}"] = remede_by[(task, split)]
    if run_json:
        files["run_json"] = run_json
    if oracle:
        files["oracle"] = oracle
    prov = provenance(config if config is not None else asdict(settings), seed, **files)
    prov["run_provenance"] = run.get("provenance")
    doc = {
        "model": model or run.get("model"), "recipe": recipe or run.get("recipe"),
        "run": {k: v for k, v in run.items() if k != "provenance"},
        "settings": asdict(settings), "provenance": prov, "dropped": dropped, "results": results,
    }
    doc = _clean(doc)
    write_json(out, doc, indent=1, allow_nan=False)
    return doc
