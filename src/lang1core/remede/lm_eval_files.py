"""lm-evaluation-harness task files for ReMedE, so any model `lm-eval` can load is scored the
study's way: the prompt of lang1core/remede/prompts.py, the options' letters as choices, the
softmax over the letters' log-likelihoods as probabilities, AUROC (binary, or macro
one-vs-rest) aggregated.

Notes are truncated as lang1's scorer does (lang1core/finetune/scoring.py): the note's FIRST
`max_note_tokens` tokens are kept, then the question and options. `lm_eval` itself cuts an
over-long prompt from the left, which would drop the start of the note (and differ from our
scores), so the generated `utils.py` cuts each note when it loads the data, with the tokenizer
of the model being evaluated: the one named by `tokenizer`, `pretrained` or `model` in lm-eval's
metadata (the CLI puts `--model_args` there). The note budget shrinks, as in the scorer, when
the model's context (`max_length`, else its config) cannot hold note plus question. It is done
there, not in the data we write, because every model has its own tokenizer.

Writes into `<remede>/lm_eval/`: `utils.py` (stand-alone: reads `../{task}/{split}.parquet`
next to it, so the folder moves with the task data), one `remede_{task}_{split}.yaml` per
task and split, and a `remede` group of the headline (temporal_2024) tasks.
Use: `lm_eval --model hf --model_args pretrained=DIR --include_path R/remede/lm_eval --tasks remede`
(`--metadata '{"max_note_tokens": 256}'` overrides the budget written from the config).
"""

from __future__ import annotations

from pathlib import Path

from lang1core.publish import write_text

UTILS = '''\
"""ReMedE for lm-evaluation-harness (written by lang1; stand-alone, needs numpy, pyarrow,
datasets and transformers).

Each document is one note with a multiple-choice question; the choices are the option
letters, so a model's probability of option i is the softmax over the letters' log-likelihoods
(the study's scoring). `auroc` aggregates (label, probabilities) pairs: binary AUROC on the
positive class, macro one-vs-rest for more classes, nan when a split holds one class.

Notes are cut to their first MAX_NOTE_TOKENS tokens of the evaluated model's tokenizer when
loaded (lm-eval would cut an over-long prompt from the left, dropping the note's start).
"""

from pathlib import Path

import numpy as np

LETTERS = "ABCDEFGHIJ"
HERE = Path(__file__).resolve().parent
COLUMNS = ["example_id", "text", "question", "options", "label"]
MAX_NOTE_TOKENS = __MAX_NOTE_TOKENS__  # lang1's finetune.max_note_tokens when written
TOKENIZER_KEYS = ("tokenizer", "pretrained", "model")  # lm-eval metadata naming the model
DEFAULT_MAX_LENGTH = 2048  # lm-eval's context when neither model_args nor config give one


def load(task=None, split=None, data_dir=None, max_note_tokens=None, **kwargs):
    """custom_dataset hook: the task's split as a one-split DatasetDict ("test"), every note
    cut to its first `max_note_tokens` tokens (lm-eval passes its metadata as kwargs)."""
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(data_dir) if data_dir else HERE.parent
    path = root / task / f"{split}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no ReMedE data for task {task!r} split {split!r}")
    table = pq.read_table(path, columns=COLUMNS)
    budget = int(max_note_tokens if max_note_tokens is not None else MAX_NOTE_TOKENS)
    if budget < 1:
        raise ValueError(f"remede_{task}_{split}: max_note_tokens must be >= 1, got {budget}")
    tok, name = tokenizer_from(kwargs, f"remede_{task}_{split}")
    context = context_length(name, kwargs)
    texts = truncate_notes(tok, table.column("text").to_pylist(), table.column("question").to_pylist(),
                           table.column("options").to_pylist(), budget, context)
    table = table.set_column(COLUMNS.index("text"), "text", pa.array(texts, type=pa.string()))
    return datasets.DatasetDict({"test": datasets.Dataset(table)})


def tokenizer_from(kwargs, task):
    """(tokenizer, its name) from lm-eval's metadata: `tokenizer`, else `pretrained`, else `model`."""
    from transformers import AutoTokenizer

    name = next((kwargs[k] for k in TOKENIZER_KEYS if isinstance(kwargs.get(k), str) and kwargs[k]), None)
    if name is None:
        raise ValueError(
            f"{task}: notes are cut to their first tokens as lang1 scores them, which needs the "
            "model's tokenizer; run with --model_args pretrained=DIR (hf), or "
            "a tokenizer key in --metadata (JSON) naming its folder")
    trust = str(kwargs.get("trust_remote_code", "false")).lower() == "true"
    return AutoTokenizer.from_pretrained(name, trust_remote_code=trust), name


def context_length(name, kwargs):
    """The model's context as lm-eval's hf backend resolves it: `max_length`, else the config's
    n_positions / max_position_embeddings / n_ctx, else DEFAULT_MAX_LENGTH."""
    if kwargs.get("max_length"):
        return int(kwargs["max_length"])
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(name)
    except (OSError, ValueError):  # a tokenizer-only folder or an API model: no config
        return DEFAULT_MAX_LENGTH
    for cfg in (getattr(config, "text_config", None), config):
        for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
            if cfg is not None and getattr(cfg, attr, None):
                return int(getattr(cfg, attr))
    return DEFAULT_MAX_LENGTH


def truncate_notes(tok, texts, questions, options, budget, context):
    """Each note cut to its first `budget` tokens (fewer when note + question + options + the
    answer letter would overflow `context`, as lang1's scorer shrinks it); the cut text is the
    note's own prefix, up to the end of its last kept token."""
    out, fixed = [], {}
    for text, question, opts in zip(texts, questions, options):
        key = (question, tuple(opts))
        if key not in fixed:  # question, options, " A" and a BOS: what follows the note
            fixed[key] = len(tok(format_prompt("", question, opts) + " A", add_special_tokens=False)["input_ids"]) + 1
        keep = max(0, min(budget, context - fixed[key]))
        out.append(first_tokens(tok, text, keep))
    return out


def first_tokens(tok, text, n):
    """`text` up to the end of its n-th token."""
    if n == 0:
        return ""
    if getattr(tok, "is_fast", False):
        spans = tok(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        return text if len(spans) <= n else text[: spans[n - 1][1]]
    ids = tok(text, add_special_tokens=False)["input_ids"]
    return text if len(ids) <= n else tok.decode(ids[:n], skip_special_tokens=True)


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
                  probe_splits: list[str] = (), group_split: str = "temporal_2024",
                  max_note_tokens: int = 512) -> list[Path]:
    """Write utils.py, one YAML per (task, split), the probe's, and the `remede` group of
    the `group_split` tasks; return the paths. `remede_dir` is where the data lives (the
    files read it relative to themselves; the argument documents the layout).
    `max_note_tokens` is the note budget (finetune.max_note_tokens), as the scorer's."""
    if int(max_note_tokens) < 1:
        raise ValueError(f"max_note_tokens must be >= 1, got {max_note_tokens}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "utils.py"]
    write_text(written[0], UTILS.replace("__MAX_NOTE_TOKENS__", str(int(max_note_tokens))))
    for task in tasks:
        for split in splits:
            p = out / f"{task_name(task, split)}.yaml"
            write_text(p, TASK_YAML.format(name=task_name(task, split), task=task, split=split))
            written.append(p)
    for split in probe_splits:
        p = out / f"{task_name('probe', split)}.yaml"
        write_text(p, TASK_YAML.format(name=task_name("probe", split), task="probe", split=split))
        written.append(p)
    group = out / "remede.yaml"
    members = "\n".join(f"  - {task_name(t, group_split)}" for t in tasks if t != "probe")
    write_text(group, f"group: remede\ntask:\n{members}\nmetadata:\n  version: 1.0\n")
    written.append(group)
    return written
