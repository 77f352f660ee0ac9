"""ReMedE examples as finetuning reads them, and the AUROC used for early stopping."""

from __future__ import annotations

from dataclasses import dataclass
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
    # Per-row questions and options (the reading-comprehension probe mixes questions with
    # different option lists); None when every row shares `question` and `options`.
    row_questions: list[str] | None = None
    row_options: list[list[str]] | None = None

    def question_of(self, i: int) -> str:
        return self.row_questions[i] if self.row_questions is not None else self.question

    def options_of(self, i: int) -> list[str]:
        return self.row_options[i] if self.row_options is not None else self.options

    @property
    def n_options(self) -> int:
        """Probability columns needed: the most options of any row (at least 2)."""
        if self.row_options is not None:
            return max([2] + [len(o) for o in self.row_options])
        return len(self.options)

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
            None if self.row_questions is None else [self.row_questions[i] for i in idx],
            None if self.row_options is None else [self.row_options[i] for i in idx],
        )

    def sample(self, n: int | None, seed: int) -> "TaskData":
        """At most n examples, drawn without replacement (seeded) and stratified by label;
        all when n is None. Samples are nested: with the same seed, the n examples include the
        m < n ones, so data-efficiency subsets grow rather than change.

        Stratified so a capped evaluation split keeps its rare class: the i-th (shuffled)
        example of a class with c members gets the key (i + u) / c, u ~ U[0, 1), and the
        smallest keys are taken, so every prefix holds each class in proportion and a class
        appears within the first len/c examples."""
        if n is None or n >= len(self):
            return self
        rng = np.random.default_rng(seed)
        labels = np.asarray(self.labels)
        keys = np.empty(len(labels))
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            keys[members] = (np.arange(len(members)) + rng.random(len(members))) / len(members)
        order = np.argsort(keys, kind="stable")
        return self.subset(sorted(order[:n].tolist()))


def read_task(path: str | Path, task: str) -> TaskData:
    """Read one ReMedE split parquet; question and options come from the file (LOS option
    texts follow the train split's quartiles), falling back to TASKS for an empty split."""
    path = Path(path)
    df = pl.read_parquet(path)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing} of a ReMedE task file "
                         "(docs/architecture.md#remede-task-files)")
    row_questions = row_options = None
    if task not in TASKS:
        # Probe-style file: every row carries its own question and options.
        row_questions = df["question"].to_list()
        row_options = [list(o) for o in df["options"].to_list()]
        question, options = "", []
        n_opts = np.array([len(o) for o in row_options], dtype=np.int64)
    elif df.height:
        question = df["question"][0]
        options = list(df["options"][0])
        n_opts = np.full(df.height, len(options))
    else:
        question, options = TASKS[task].question, list(TASKS[task].options)
        n_opts = np.zeros(0, dtype=np.int64)
    labels = df["label"].cast(pl.Int64).to_numpy()
    bad = (labels < 0) | (labels >= n_opts)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(
            f"{path}: row {row} label {labels[row]} outside options 0..{n_opts[row] - 1}"
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
        row_questions,
        row_options,
    )


def auroc(y_true: np.ndarray, y_score: np.ndarray) -> float | None:
    """AUROC of option probabilities y_score [n, K]: binary on prob_1, macro one-vs-rest for more
    classes (over the classes present); None when only one class is present."""
    from sklearn.metrics import roc_auc_score

    y_true = np.asarray(y_true)
    present = np.unique(y_true)
    if len(present) < 2:
        return None
    if y_score.shape[1] == 2:
        return float(roc_auc_score(y_true, y_score[:, 1]))
    scores = [roc_auc_score(y_true == c, y_score[:, c]) for c in present]
    return float(np.mean(scores))
