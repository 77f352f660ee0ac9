"""lm-evaluation-harness task files for ReMedE, so any model `lm-eval` can load is scored the
study's way: the prompt of DESIGN §4, the options' letters as choices, the softmax over the
letters' log-likelihoods as probabilities, AUROC (binary, or macro one-vs-rest) aggregated.

Writes into `<remede>/lm_eval/`: `utils.py` (stand-alone: reads `../{task}/{split}.parquet`
next to it, so the folder moves with the task data), one `remede_{task}_{split}.yaml` per
task and split, and a `remede` group of the headline (temporal_2024) tasks.
Use: `lm_eval --model hf --model_args pretrained=DIR --include_path R/remede/lm_eval --tasks remede`.
"""

from __future__ import annotations

from pathlib import Path

UTILS = '''\
"""ReMedE for lm-evaluation-harness (written by lang1; stand-alone, needs numpy, pyarrow, datasets).

Each document is one note with a multiple-choice question; the choices are the option
letters, so a model's probability of option i is the softmax over the letters' log-likelihoods
(the study's scoring). `auroc` aggregates (label, probabilities) pairs: binary AUROC on the
positive class, macro one-vs-rest for more classes, nan when a split holds one class.
"""

from pathlib import Path

import numpy as np

LETTERS = "ABCDEFGHIJ"
HERE = Path(__file__).resolve().parent
COLUMNS = ["example_id", "text", "question", "options", "label"]


def load(task=None, split=None, data_dir=None, **kwargs):
    """custom_dataset hook: the task's split as a one-split DatasetDict ("test")."""
    import datasets
    import pyarrow.parquet as pq

    root = Path(data_dir) if data_dir else HERE.parent
    path = root / task / f"{split}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no ReMedE data for task {task!r} split {split!r}")
    return datasets.DatasetDict({"test": datasets.Dataset(pq.read_table(path, columns=COLUMNS))})


def format_prompt(text, question, options):
    """The study's prompt (Appendix H); identical to lang1core.remede.prompts.format_prompt."""
    opts = "\\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))
    return f"{text}\\nQuestion: {question}\\n{opts}\\nAnswer:"


def doc_to_text(doc):
    return format_prompt(doc["text"], doc["question"], doc["options"])


def doc_to_choice(doc):
    return list(LETTERS[: len(doc["options"])])


def doc_to_target(doc):
    return int(doc["label"])


def softmax(loglik):
    x = np.asarray(loglik, dtype=np.float64)
    x = np.exp(x - x.max())
    return x / x.sum()


def process_results(doc, results):
    """results: one (loglikelihood, is_greedy) per choice, in option order."""
    probs = softmax([r[0] for r in results])
    label = int(doc["label"])
    return {"acc": float(int(np.argmax(probs)) == label), "auroc": (label, probs.tolist())}


def _binary_auroc(y, s):
    """Mann-Whitney AUROC with average ranks for ties; nan without both classes."""
    y, s = np.asarray(y, dtype=bool), np.asarray(s, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auroc(items):
    """Aggregate [(label, probs), ...]: binary AUROC on probs[1], else macro one-vs-rest over
    the classes present with both outcomes."""
    labels = np.array([int(i[0]) for i in items])
    probs = np.array([i[1] for i in items], dtype=np.float64)
    if len(labels) == 0:
        return float("nan")
    if probs.shape[1] == 2:
        return _binary_auroc(labels == 1, probs[:, 1])
    per = [_binary_auroc(labels == k, probs[:, k]) for k in range(probs.shape[1])]
    per = [a for a in per if a == a]
    return float(np.mean(per)) if per else float("nan")
'''

TASK_YAML = """\
task: {name}
tag: [remede_{split}]
custom_dataset: !function utils.load
dataset_kwargs:
  task: {task}
  split: {split}
test_split: test
output_type: multiple_choice
doc_to_text: !function utils.doc_to_text
doc_to_choice: !function utils.doc_to_choice
doc_to_target: !function utils.doc_to_target
process_results: !function utils.process_results
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: auroc
    aggregation: !function utils.auroc
    higher_is_better: true
metadata:
  version: 1.0
"""


def task_name(task: str, split: str) -> str:
    return f"remede_{task}_{split}"


def write_lm_eval(remede_dir: str | Path, out_dir: str | Path, tasks: list[str], splits: list[str],
                  probe_splits: list[str] = (), group_split: str = "temporal_2024") -> list[Path]:
    """Write utils.py, one YAML per (task, split), the probe's, and the `remede` group of
    the `group_split` tasks; return the paths. `remede_dir` is where the data lives (the
    files read it relative to themselves; the argument documents the layout)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "utils.py"]
    written[0].write_text(UTILS)
    for task in tasks:
        for split in splits:
            p = out / f"{task_name(task, split)}.yaml"
            p.write_text(TASK_YAML.format(name=task_name(task, split), task=task, split=split))
            written.append(p)
    for split in probe_splits:
        p = out / f"{task_name('probe', split)}.yaml"
        p.write_text(TASK_YAML.format(name=task_name("probe", split), task="probe", split=split))
        written.append(p)
    group = out / "remede.yaml"
    members = "\n".join(f"  - {task_name(t, group_split)}" for t in tasks if t != "probe")
    group.write_text(f"group: remede\ntask:\n{members}\nmetadata:\n  version: 1.0\n")
    written.append(group)
    return written
