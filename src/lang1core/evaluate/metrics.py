"""Metrics of one task on one split: AUROC with its interval, calibration, alerts, strata.

Input is a frame of predictions already joined to the ReMedE examples (see run.py): label,
prob_0..prob_{K-1}, patient_id, the strata columns and optionally `oracle_probs`.
Binary tasks are scored on prob_1; multi-class tasks one-vs-rest (macro, plus micro).
Every AUROC row carries a `status` (lang1core/evaluate/status.py): a sample with no examples,
one class or fewer than `min_positives` of a class is reported with that status and a null
AUROC and interval, never dropped and never drawn as a number.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace

import numpy as np
import polars as pl

from lang1core.contracts import prob_column
from lang1core.evaluate import alerts as alerts_mod
from lang1core.evaluate import calibration
from lang1core.evaluate.auroc import (
    DEFAULT_MAX_ELEMENTS,
    bootstrap_binary,
    bootstrap_multiclass,
    chunk_size,
)
from lang1core.evaluate.status import DEFAULT_MIN_POSITIVES, NO_EXAMPLES, OK, auroc_status

STRATA = ("age_band", "sex", "race", "ethnicity", "region", "child")


@dataclass
class EvalSettings:
    n_bootstrap: int = 1000  # resamples per interval (study: 1000)
    ci_level: float = 0.95  # two-sided percentile interval
    cluster_by_patient: bool = True  # resample patients (True) or examples (False)
    calibration_bins: int = 15  # equal-width reliability bins (study: 15)
    alert_rates: list[float] = field(default_factory=lambda: [0.05, 0.10, 0.20])
    strata: list[str] = field(default_factory=lambda: list(STRATA))
    splits: list[str] = field(default_factory=lambda: ["test", "temporal", "temporal_2024", "external"])
    bootstrap_chunk_elements: int = DEFAULT_MAX_ELEMENTS  # memory bound of one bootstrap chunk
    min_positives: int = DEFAULT_MIN_POSITIVES  # fewer positives (or negatives): AUROC not reported

    @property
    def ci_method(self) -> str:
        return "patient" if self.cluster_by_patient else "example"


def rng_for(seed: int, *key: str) -> np.random.Generator:
    """A generator that depends on the seed and the result's name only (not on run order)."""
    return np.random.default_rng([seed, zlib.crc32("/".join(key).encode())])


def prob_matrix(df: pl.DataFrame, k: int) -> np.ndarray:
    """[n, K] float64 from prob_0..prob_{K-1}."""
    if not len(df):
        return np.zeros((0, k))
    return df.select([pl.col(prob_column(c)).cast(pl.Float64) for c in range(k)]).to_numpy()


def patient_key() -> pl.Expr:
    """A row's bootstrap cluster: its patient id, or its own example id when it has none."""
    return pl.coalesce(pl.col("patient_id").cast(pl.String), pl.lit("example:") + pl.col("example_id").cast(pl.String))


def patient_codes(df: pl.DataFrame) -> np.ndarray:
    """Integer patient code per row (0..P-1); a row without a patient id is its own patient."""
    return df.select(patient_key().rank("dense").cast(pl.Int64)).to_series().to_numpy() - 1


def _clusters(codes: np.ndarray, mask: np.ndarray | None, settings: EvalSettings) -> np.ndarray | None:
    """Patient codes of the selected rows, renumbered 0..P'-1 (None: example bootstrap)."""
    if not settings.cluster_by_patient:
        return None
    sub = codes if mask is None else codes[mask]
    return np.unique(sub, return_inverse=True)[1].reshape(-1)


def auroc_block(probs: np.ndarray, labels: np.ndarray, clusters, settings: EvalSettings,
                rng: np.random.Generator) -> dict:
    """AUROC (+ interval) for binary (K=2, on prob_1) or multi-class (macro/micro OvR)."""
    n, k = probs.shape
    counts = np.bincount(labels, minlength=k)[:k] if n else np.zeros(k, dtype=np.int64)
    out = {"n": int(n), "n_pos": int(counts[1]) if k == 2 else None, "class_counts": counts.tolist(),
           "auroc": None, "ci_low": None, "ci_high": None, "ci_method": settings.ci_method,
           "n_bootstrap": settings.n_bootstrap, "n_bootstrap_valid": 0, "auroc_micro": None}
    status = auroc_status(counts, settings.min_positives)
    if status != OK:
        return {**out, "status": status}
    n_units = int(clusters.max()) + 1 if clusters is not None else n
    chunk = chunk_size(max(n, n_units), settings.n_bootstrap, settings.bootstrap_chunk_elements)
    if k == 2:
        r = bootstrap_binary(probs[:, 1], labels, settings.n_bootstrap, rng, settings.ci_level,
                             clusters=clusters, chunk=chunk)
        out.update(auroc=r.estimate, ci_low=r.ci_low, ci_high=r.ci_high, n_bootstrap_valid=r.n_valid)
    else:
        r = bootstrap_multiclass(probs, labels, settings.n_bootstrap, rng, settings.ci_level,
                                 clusters=clusters, chunk=chunk)
        out.update(auroc=r["macro"], ci_low=r["macro_ci"][0], ci_high=r["macro_ci"][1],
                   auroc_micro=r["micro"], micro_ci_low=r["micro_ci"][0], micro_ci_high=r["micro_ci"][1],
                   auroc_per_class=r["per_class"], classes_evaluated=r["classes_evaluated"],
                   n_bootstrap_valid=r["n_valid"])
    return {**out, "status": OK}


def qa_ppl_summary(df: pl.DataFrame) -> dict | None:
    """Question-answer perplexity: geometric mean (exp of the mean log-perplexity, i.e. the
    perplexity of the average answer), plus median and count. None when not scored."""
    if "qa_ppl" not in df.columns:
        return None
    v = df["qa_ppl"].cast(pl.Float64).drop_nulls().drop_nans().to_numpy()
    v = v[v > 0]
    if not len(v):
        return None
    return {"geomean": float(np.exp(np.log(v).mean())), "median": float(np.median(v)),
            "mean": float(v.mean()), "n": int(len(v))}


def score_split(df: pl.DataFrame, k: int, task: str, split: str, settings: EvalSettings, seed: int,
                options: list[str] | None = None) -> dict:
    """All metrics of one (task, split): subsets all/unseen; calibration, alerts, strata and
    the oracle on `all`."""
    out: dict = {"task": task, "split": split, "n_classes": k, "options": options, "subsets": {}}
    probs_all, labels_all = prob_matrix(df, k), df["label"].to_numpy().astype(np.int64)
    codes = patient_codes(df) if len(df) else np.zeros(0, dtype=np.int64)
    seen = df["seen_patient"].fill_null(False).to_numpy().astype(bool) if "seen_patient" in df.columns \
        else np.zeros(len(df), dtype=bool)
    for subset in ("all", "unseen"):
        mask = np.ones(len(df), dtype=bool) if subset == "all" else ~seen
        part = df if subset == "all" else df.filter(pl.Series(mask))
        probs, labels = probs_all[mask], labels_all[mask]
        res = auroc_block(probs, labels, _clusters(codes, mask, settings), settings, rng_for(seed, task, split, subset))
        res["qa_ppl"] = qa_ppl_summary(part)
        if len(part):
            res["accuracy"] = float((probs.argmax(axis=1) == labels).mean())
        conf, hit = calibration.confidence_and_hit(probs, labels)
        bins, res["ece"] = calibration.reliability(conf, hit, settings.calibration_bins)
        if subset == "all":
            res["calibration"] = bins
            res["alerts"] = alerts_mod.alert_points(probs[:, 1], labels, settings.alert_rates) if k == 2 else []
            res["strata"] = score_strata(df, probs, labels, codes, task, split, settings, seed)
            res.update(oracle_block(part, probs, labels, res["auroc"], k, settings))
        out["subsets"][subset] = res
    return out


def strata_values(df: pl.DataFrame, attr: str) -> np.ndarray:
    """Group label per row; nulls form the group `missing`; child booleans read child/adult."""
    if attr == "child" and df[attr].dtype == pl.Boolean:
        col = df[attr].replace_strict({True: "child", False: "adult"}, default=None, return_dtype=pl.String)
    else:
        col = df[attr].cast(pl.String)
    return col.fill_null("missing").to_numpy()


def score_strata(df, probs, labels, codes, task, split, settings: EvalSettings, seed: int) -> list[dict]:
    rows = []
    for attr in settings.strata:
        if attr not in df.columns:
            rows.append({"attribute": attr, "group": None, "n": 0, "n_pos": None, "auroc": None,
                         "ci_low": None, "ci_high": None, "status": NO_EXAMPLES})
            continue
        values = strata_values(df, attr)
        for group in sorted(set(values.tolist())):
            mask = values == group
            r = auroc_block(probs[mask], labels[mask], _clusters(codes, mask, settings), settings,
                            rng_for(seed, task, split, attr, group))
            rows.append({"attribute": attr, "group": group, "n": r["n"], "n_pos": r["n_pos"],
                         "auroc": r["auroc"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                         "status": r["status"]})
    return rows


def oracle_block(df: pl.DataFrame, probs, labels, model_auroc, k: int, settings: EvalSettings) -> dict:
    """The oracle's AUROC on the same examples and the model's AUROC as a share of it.

    When the oracle covers only some examples, both AUROCs are taken on the covered ones."""
    if "oracle_probs" not in df.columns:
        return {"oracle_auroc": None, "oracle_share": None, "oracle_missing": None}
    have = df["oracle_probs"].is_not_null().to_numpy()
    missing = int((~have).sum())
    if not have.any():
        return {"oracle_auroc": None, "oracle_share": None, "oracle_missing": missing}
    oracle = np.array(df.filter(pl.Series(have))["oracle_probs"].to_list(), dtype=np.float64)
    if oracle.shape[1] != k:
        raise ValueError(f"oracle has {oracle.shape[1]} probabilities per row, predictions {k}")
    settings = replace(settings, n_bootstrap=0)
    o = auroc_block(oracle, labels[have], None, settings, np.random.default_rng(0))["auroc"]
    m = model_auroc if missing == 0 else auroc_block(probs[have], labels[have], None, settings,
                                                     np.random.default_rng(0))["auroc"]
    share = m / o if (o is not None and m is not None and o > 0) else None
    return {"oracle_auroc": o, "oracle_share": share, "oracle_missing": missing}
