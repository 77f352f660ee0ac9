"""Contract-shaped demo tables: random but plausible numbers for every figure.

Used by the tests (every figure renders, and renders "not run" when rows are missing) and by
`lang1 figures --demo` to preview the figures before any model is trained. Numbers are made
up; every figure drawn from them is marked as demo data by the caller.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from lang1core.evaluate.status import OK, SINGLE_CLASS
from lang1core.contracts import TABLE_SCHEMAS, snapshot_name

TASKS = {"readmission": 2, "mortality": 2, "los": 4, "cci": 5, "denial": 2}
SPLITS = ("test", "temporal", "temporal_2024", "external")
BASES = {"lang1": 0.74, "generalist": 0.66, "clinical_only": 0.72}  # finetuned skill
ATTRS = {
    "age_band": ["18-44", "45-64", "65-79", "80+"],
    "sex": ["female", "male"],
    "race": ["asian", "black", "white", "other"],
    "ethnicity": ["hispanic", "not_hispanic"],
    "region": ["north", "south", "east", "west"],
    "child": ["adult", "child"],
}
TASK_DIFFICULTY = {"readmission": 0.0, "mortality": 0.1, "los": 0.02, "cci": 0.06, "denial": -0.06}


def _auroc_row(rng, model, recipe, task, split, subset, centre, n=400):
    k = TASKS.get(task, 4)
    pos_rate = 0.15 if k == 2 else 1 / k
    a = float(np.clip(centre + rng.normal(0, 0.015), 0.45, 0.99))
    half = 1.96 * np.sqrt(a * (1 - a) / (n * pos_rate)) * 0.6
    return {"model": model, "recipe": recipe, "task": task, "split": split, "subset": subset,
            "n": n, "n_pos": int(n * pos_rate), "auroc": a, "ci_low": max(0.0, a - half),
            "ci_high": min(1.0, a + half), "status": OK, "ci_method": "patient",
            "auroc_micro": a + 0.03 if k > 2 else None,
            "ece": float(abs(rng.normal(0.05, 0.02))), "oracle_auroc": 0.9,
            "oracle_share": a / 0.9, "qa_ppl": float(np.exp(3.5 - 2.5 * (a - 0.5)
                                                             + rng.normal(0, 0.1)))}


def make_tables(seed: int = 0) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    runs, auroc, calib, strata, alerts = [], [], [], [], []
    split_shift = {"test": 0.0, "temporal": -0.015, "temporal_2024": -0.03, "external": -0.05}

    def add(model, recipe, kind, base, train_task, n_train, pt, ft, centre_of, tasks, probe=None):
        runs.append({"model": model, "recipe": recipe, "kind": kind, "base": base,
                     "train_task": train_task, "n_train": n_train, "pretrain_tokens": int(pt),
                     "finetune_tokens": ft})
        for task in tasks:
            for split in SPLITS:
                for subset in ("all", "unseen"):
                    c = centre_of(task) + split_shift[split] - (0.02 if subset == "unseen" else 0)
                    auroc.append(_auroc_row(rng, model, recipe, task, split, subset, c))
        if probe is not None:
            for split in ("test",):
                row = _auroc_row(rng, model, recipe, "probe", split, "all", probe)
                row["accuracy"] = float(np.clip(probe - 0.2 + rng.normal(0, 0.01), 0, 1))
                auroc.append(row)

    total = 2.0e9
    for base, skill in BASES.items():
        zs = skill - 0.14
        add(base, "zeroshot", "zeroshot", base, None, 0, total, 0,
            lambda t, zs=zs: zs - TASK_DIFFICULTY[t] + 0.03 * rng.random(), TASKS,
            probe=zs + 0.25)
        for i in range(1, 6):
            frac = i / 5
            add(snapshot_name(base, i), "zeroshot", "trajectory", base, None, 0, total * frac, 0,
                lambda t, zs=zs, f=frac: 0.5 + (zs - 0.5 - TASK_DIFFICULTY[t]) * f ** 0.5,
                TASKS, probe=0.5 + (zs - 0.25) * frac ** 0.4)
        for train_task in TASKS:
            add(base, train_task, "finetune", base, train_task, 8000, total, 8000 * 512,
                lambda t, s=skill, tt=train_task: (s - TASK_DIFFICULTY[t]
                                                    - (0 if t == tt else 0.09)), TASKS)
        if base != "clinical_only":
            for n in (100, 300, 1000, 3000, 8000):
                for task in TASKS:
                    add(base, f"{task}-n{n}", "efficiency", base, task, n, total, n * 512,
                        lambda t, s=skill, n=n: s - TASK_DIFFICULTY[t] - 0.05 * np.log10(8000 / n),
                        [task])
    add("lang1", "joint", "joint", "lang1", None, 40000, total, 40000 * 512,
        lambda t: BASES["lang1"] + 0.01 - TASK_DIFFICULTY[t], TASKS)
    for task in TASKS:
        add("tfidf", task, "tfidf", None, task, 8000, 0, 0,
            lambda t: 0.64 - TASK_DIFFICULTY[t], [task])
        add("scratch", task, "scratch", None, task, 8000, 0, 8000 * 512,
            lambda t: 0.6 - TASK_DIFFICULTY[t], [task])

    for base in BASES:
        for task in TASKS:
            for split in SPLITS:
                edges = np.linspace(0, 1, 16)
                bias = {"lang1": 0.03, "generalist": -0.06, "clinical_only": 0.0}[base]
                for b in range(15):
                    conf = (edges[b] + edges[b + 1]) / 2
                    cnt = int(max(0, rng.poisson(400 * np.exp(-4 * conf))))
                    if cnt == 0:
                        continue
                    acc = float(np.clip(conf + bias * np.sin(np.pi * conf)
                                        + rng.normal(0, 0.02), 0, 1))
                    calib.append({"model": base, "recipe": task, "task": task, "split": split,
                                  "bin": b, "lower": edges[b], "upper": edges[b + 1],
                                  "confidence": conf, "accuracy": acc, "count": cnt,
                                  "status": OK})
            for split in SPLITS:
                for attr, groups in ATTRS.items():
                    for g in groups:
                        n = int(rng.integers(20, 300))
                        status = OK
                        a = BASES[base] - TASK_DIFFICULTY[task] + rng.normal(0, 0.03)
                        lo, hi = a - 0.6 / np.sqrt(n), a + 0.6 / np.sqrt(n)
                        n_pos = int(n * 0.15)
                        if attr == "child" and g == "child" and task == "mortality":
                            status, a, lo, hi, n_pos = SINGLE_CLASS, None, None, None, 0
                        strata.append({"model": base, "recipe": task, "task": task,
                                       "split": split, "attribute": attr, "group": g, "n": n,
                                       "n_pos": n_pos, "auroc": a, "ci_low": lo, "ci_high": hi,
                                       "status": status})
                for rate in (0.05, 0.1, 0.2):
                    alerts.append({"model": base, "recipe": task, "task": task, "split": split,
                                   "alert_rate": rate, "threshold": 1 - rate, "flagged": int(400 * rate),
                                   "sensitivity": min(1, rate * 3), "ppv": 0.3, "status": OK})
    los_bins = ["0 to 2 days", "3 days", "4 to 5 days", "more than 5 days"]
    cond = []
    p_los_given = {"no": [0.46, 0.15, 0.16, 0.23], "yes": [0.2, 0.1, 0.15, 0.55]}
    for given, probs in p_los_given.items():
        for b, p in zip(los_bins, probs):
            cond.append({"direction": "los|mortality", "given": given, "outcome": b,
                         "probability": p, "n": 1000 if given == "no" else 30, "status": OK})
    for b, pm in zip(los_bins, [0.008, 0.012, 0.017, 0.04]):
        for outcome, p in (("no", 1 - pm), ("yes", pm)):
            cond.append({"direction": "mortality|los", "given": b, "outcome": outcome,
                         "probability": p, "n": 250, "status": OK})

    out = {
        "runs": pl.DataFrame(runs, schema=TABLE_SCHEMAS["runs"]),
        "auroc": pl.DataFrame(auroc, schema=TABLE_SCHEMAS["auroc"]),
        "calibration": pl.DataFrame(calib, schema=TABLE_SCHEMAS["calibration"]),
        "strata": pl.DataFrame(strata, schema=TABLE_SCHEMAS["strata"]),
        "alerts": pl.DataFrame(alerts, schema=TABLE_SCHEMAS["alerts"]),
        "conditional": pl.DataFrame(cond, schema=TABLE_SCHEMAS["conditional"]),
    }
    task_counts = [{"task": t, "split": s, "examples": int(rng.integers(200, 4000)),
                    "patients": int(rng.integers(100, 2000)),
                    "positive_%": round(float(rng.uniform(2, 30)), 1)}
                   for t in TASKS for s in ("train", "val", "test", "temporal", "temporal_2024",
                                            "external")]
    out["B1_task_splits"] = pl.DataFrame(task_counts)
    for i in range(2, 8):
        out[f"B{i}_demographics"] = pl.DataFrame(
            [{"group": g, "attribute": a, "n": int(rng.integers(50, 3000)),
              "share_%": round(float(rng.uniform(1, 60)), 1)}
             for a, gs in list(ATTRS.items())[: 2 + i % 3] for g in gs])
    return out


def write_tables(directory: str | Path, seed: int = 0) -> dict[str, Path]:
    """Write the demo tables as `<directory>/<name>.csv`; returns name -> path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in make_tables(seed).items():
        path = directory / f"{name}.csv"
        df.write_csv(path)
        paths[name] = path
    return paths
