"""ReMedE examples as finetuning reads them, and the AUROC used for early stopping."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from lang1core.remede.tasks import TASKS

COLUMNS = ["example_id", "patient_id", "text", "label", "question", "options"]


@dataclass
class TaskData:
    """One task's examples of one split (options and question shared by all rows)."""

    task: str
    example_ids: list[str]
    patient_ids: list[str]
    texts: list[str]
    labels: np.ndarray  # int64 [N]
    question: str
    options: list[str]
    source: str = ""
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx) -> "TaskData":
        idx = list(idx)
        return TaskData(
            self.task,
            [self.example_ids[i] for i in idx],
            [self.patient_ids[i] for i in idx],
            [self.texts[i] for i in idx],
            self.labels[idx],
            self.question,
            self.options,
            self.source,
        )

    def sample(self, n: int | None, seed: int) -> "TaskData":
        """At most n examples, drawn without replacement (seeded); all when n is None.
        Samples are nested: with the same seed, the n examples include the m < n ones, so
        data-efficiency subsets grow rather than change."""
        if n is None or n >= len(self):
            return self
        order = np.random.default_rng(seed).permutation(len(self))
        return self.subset(sorted(order[:n].tolist()))


def read_task(path: str | Path, task: str) -> TaskData:
    """Read one ReMedE split parquet; question and options come from the file (LOS option
    texts follow the train split's quartiles), falling back to TASKS for an empty split."""
    path = Path(path)
    df = pl.read_parquet(path)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing} (ReMedE contract, DESIGN §2)")
    if task not in TASKS:
        raise ValueError(f"{path}: unknown task {task!r}; expected one of {sorted(TASKS)}")
    if df.height:
        question = df["question"][0]
        options = list(df["options"][0])
    else:
        question, options = TASKS[task].question, list(TASKS[task].options)
    labels = df["label"].cast(pl.Int64).to_numpy()
    bad = (labels < 0) | (labels >= len(options))
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(
            f"{path}: row {row} label {labels[row]} outside options 0..{len(options) - 1}"
        )
    return TaskData(
        task,
        df["example_id"].cast(pl.Utf8).to_list(),
        df["patient_id"].cast(pl.Utf8).to_list(),
        df["text"].to_list(),
        labels,
        question,
        options,
        str(path),
    )


def auroc(labels: np.ndarray, probs: np.ndarray) -> float | None:
    """Binary AUROC on prob_1, macro one-vs-rest for more classes (over the classes present);
    None when only one class is present."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels)
    present = np.unique(labels)
    if len(present) < 2:
        return None
    if probs.shape[1] == 2:
        return float(roc_auc_score(labels, probs[:, 1]))
    scores = [roc_auc_score(labels == c, probs[:, c]) for c in present]
    return float(np.mean(scores))
