"""Build ReMedE, prediction, oracle and dataset-stats files that follow the stage contract
(docs/architecture.md#file-contracts), small and deterministic, for evaluation and figure tests.

    from eval_fixtures import build_all
    paths = build_all(results_root, runs=[("lang1", "zeroshot"), ("tfidf", "readmission")])

Files written under the results root:
  remede/{task}/{split}.parquet   example_id, patient_id, encounter_id, site, note_date, text,
                                  label, options, question, seen_patient, age, age_band, child,
                                  sex, race, ethnicity, region
  remede/stats/B{1..7}_*.csv(.md), remede/manifest.json
  predictions/{model}/{recipe}/{task}/{split}.parquet  example_id, patient_id, label,
                                  prob_0..prob_{K-1}, qa_ppl
  predictions/{model}/{recipe}/run.json
  oracle/oracle.parquet           task, encounter_id, probs, label
H&P tasks (mortality, los, cci, denial) share the encounters of a split, so the conditional
table has pairs; patients repeat (several encounters each) so clustering matters.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl

from lang1core.contracts import prob_column
from lang1core.remede.tasks import TASKS

SPLITS = ("train", "val", "test", "temporal", "temporal_2024", "external")
CLASS_P = {"readmission": [0.85, 0.15], "mortality": [0.9, 0.1], "los": [0.45, 0.15, 0.16, 0.24],
           "cci": [0.6, 0.25, 0.1, 0.04, 0.01], "denial": [0.85, 0.15]}
AGE_BANDS = ("0-17", "18-44", "45-64", "65-79", "80+")
DATASET_TABLES = ("B1_counts", "B2_demographics", "B3_readmission", "B4_mortality", "B5_los", "B6_cci",
                  "B7_denial")


def remede_frame(task: str, split: str, n: int, seed: int = 0, n_patients: int | None = None) -> pl.DataFrame:
    """One split's examples. Encounter ids depend on split only (shared across H&P tasks)."""
    rng = np.random.default_rng([seed, SPLITS.index(split) if split in SPLITS else 99])
    n_patients = n_patients or max(1, n // 3)
    patient = rng.integers(0, n_patients, n)
    age = rng.integers(1, 95, n_patients)[patient]
    band = np.searchsorted([18, 45, 65, 80], age, side="right")
    demo = lambda vals: np.asarray(vals)[rng.integers(0, len(vals), n_patients)][patient]
    trng = np.random.default_rng([seed, SPLITS.index(split) if split in SPLITS else 99, len(task)])
    p = CLASS_P[task]
    label = trng.choice(len(p), size=n, p=p)
    opts = list(TASKS[task].options)
    return pl.DataFrame({
        "example_id": [f"{task}-{split}-{i}" for i in range(n)],
        "patient_id": [f"p{split}{x}" for x in patient],
        "encounter_id": [f"e{split}{i}" for i in range(n)],
        "site": ["site_d" if split == "external" else "site_a"] * n,
        "note_date": [dt.date(2024 if split == "temporal_2024" else 2020, 1, 1)] * n,
        "text": ["note text"] * n,
        "label": label.astype(np.int64),
        "options": [opts] * n,
        "question": [TASKS[task].question] * n,
        "seen_patient": rng.random(n) < 0.4,
        "age": age.astype(np.int64),
        "age_band": np.asarray(AGE_BANDS)[band],
        "child": age < 18,
        "sex": demo(["female", "male"]),
        "race": demo(["white", "black", "asian", "other"]),
        "ethnicity": demo(["hispanic", "not_hispanic"]),
        "region": demo(["north", "south", "east"]),
    }, schema_overrides={"options": pl.List(pl.String)})


def predictions_frame(ex: pl.DataFrame, k: int, signal: float, seed: int, qa_ppl: bool = True) -> pl.DataFrame:
    """Probabilities that carry `signal` about the label (softmax of noisy one-hot logits)."""
    rng = np.random.default_rng(seed)
    n = len(ex)
    logits = rng.normal(size=(n, k))
    if n:
        logits[np.arange(n), ex["label"].to_numpy()] += signal
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    cols = {"example_id": ex["example_id"], "patient_id": ex["patient_id"], "label": ex["label"]}
    cols.update({prob_column(c): probs[:, c] for c in range(k)})
    cols["qa_ppl"] = np.exp(rng.normal(1.0, 0.3, n)) if qa_ppl else [None] * n
    return pl.DataFrame(cols, schema_overrides={"qa_ppl": pl.Float64})


def build_remede(root: Path, n: int = 120, seed: int = 0, tasks=tuple(TASKS), splits=SPLITS,
                 sizes: dict | None = None) -> dict:
    root = Path(root)
    frames = {}
    for task in tasks:
        for split in splits:
            size = (sizes or {}).get((task, split), (sizes or {}).get(split, n))
            ex = remede_frame(task, split, size, seed)
            path = root / "remede" / task / f"{split}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            ex.write_parquet(path)
            frames[(task, split)] = ex
    stats = root / "remede" / "stats"
    stats.mkdir(parents=True, exist_ok=True)
    counts = pl.DataFrame([{"task": t, "split": s, "n": len(f)} for (t, s), f in frames.items()])
    for name in DATASET_TABLES:  # remede.smk's REMEDE_TABLES; contents are placeholders
        counts.write_csv(stats / f"{name}.csv")
        (stats / f"{name}.md").write_text("| task | split | n |\n|---|---|---|\n")
    info = {t: {"options": list(TASKS[t].options)} for t in tasks}
    if "los" in info:
        info["los"]["los"] = {"edges": list(FIXTURE_LOS_EDGES), "unit": "calendar_days"}
    (root / "remede" / "manifest.json").write_text(json.dumps({"tasks": info}, indent=1))
    return frames


FIXTURE_LOS_EDGES = (2, 3, 5)
ORACLE_DAYS = 31  # the synthetic oracle's LOS distribution: days 0..29 and ">= 30"


def spread_to_days(class_probs: np.ndarray, edges=FIXTURE_LOS_EDGES) -> np.ndarray:
    """Class probabilities spread evenly over each bin's whole days (the synthetic oracle's
    LOS format); mapping back with the same edges restores them."""
    cls = np.searchsorted(np.array(edges), np.arange(ORACLE_DAYS), side="left")
    width = np.bincount(cls, minlength=class_probs.shape[1])
    return class_probs[:, cls] / width[cls]


def build_oracle(root: Path, frames: dict, seed: int = 1) -> Path:
    rows = []
    for (task, split), ex in frames.items():
        k = len(TASKS[task].options)
        p = predictions_frame(ex, k, 3.0, seed + len(rows))
        probs = p.select([prob_column(c) for c in range(k)]).to_numpy()
        classes = "options"
        if task == "los":
            probs, classes = spread_to_days(probs), "days"
        rows.append(pl.DataFrame({"task": [task] * len(ex), "encounter_id": ex["encounter_id"], "classes": classes,
                                  "probs": probs.tolist(), "label": ex["label"]},
                                 schema={"task": pl.String, "encounter_id": pl.String, "classes": pl.String,
                                         "probs": pl.List(pl.Float64), "label": pl.Int64}))
    path = Path(root) / "oracle" / "oracle.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.concat(rows).write_parquet(path)
    return path


def build_run(root: Path, frames: dict, model: str, recipe: str, tasks=None, splits=None,
              kind: str = "zeroshot", signal: float = 1.0, seed: int = 2, qa_ppl: bool = True) -> list[Path]:
    """Prediction files and run.json of one (model, recipe); returns the prediction paths."""
    tasks = tasks or sorted({t for t, _ in frames})
    splits = splits or sorted({s for _, s in frames})
    base = Path(root) / "predictions" / model / recipe
    paths = []
    for i, task in enumerate(tasks):
        for j, split in enumerate(splits):
            ex = frames[(task, split)]
            path = base / task / f"{split}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            frame = predictions_frame(ex, len(TASKS[task].options), signal, seed * 1000 + i * 10 + j, qa_ppl)
            frame.write_parquet(path)
            paths.append(path)
    run = {"model": model, "recipe": recipe, "kind": kind, "base": model,
           "train_task": None if kind == "zeroshot" else recipe,
           "n_train": 0 if kind == "zeroshot" else 100, "k": 0, "pretrain_tokens": 1_000_000,
           "finetune_tokens": 0 if kind == "zeroshot" else 50_000, "lr": None, "seed": 3407,
           "provenance": {"config_hash": "fixture", "code_version": "fixture", "seed": 3407}}
    (base / "run.json").write_text(json.dumps(run, indent=1))
    return paths


def build_all(root: Path, runs=(("lang1", "zeroshot"), ("generalist", "readmission")), n: int = 120,
              seed: int = 0, oracle: bool = True) -> dict:
    frames = build_remede(root, n=n, seed=seed)
    out = {"frames": frames, "runs": {}}
    if oracle:
        out["oracle"] = build_oracle(root, frames)
    for i, (model, recipe) in enumerate(runs):
        kind = "zeroshot" if recipe == "zeroshot" else "finetune"
        out["runs"][(model, recipe)] = build_run(root, frames, model, recipe, kind=kind, signal=0.5 + i, seed=i + 2)
    return out
