"""The workflow's finetune runs: read ReMedE splits, score or finetune, write predictions.

Outputs (docs/architecture.md#predictions): `{out}/{task}/{split}.parquet` with example_id,
patient_id, label, prob_0..prob_{K-1} (option order) and qa_ppl; `{out}/run.json` with model, recipe,
kind, base, train_task, n_train, k, pretrain_tokens, finetune_tokens, lr, seed, provenance,
and kernel_check (the Triton kernels' self-check and any fallback; {} when none is used).
Finetuning side files (`search.csv`, `search.db`, `curve.csv`, `checkpoint/`) go to a work
folder per run.
"""

from __future__ import annotations

import copy
import csv
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from lang1core.contracts import RUN_JSON_KEYS, base_model, prob_column
from lang1core.finetune import models as M
from lang1core.finetune.data import TaskData, read_task
from lang1core.finetune.loop import LoopConfig, encode_all, finetune
from lang1core.finetune.scoring import encode_example, score
from lang1core.private_files import DIR_MODE, FILE_MODE, config_modes
from lang1core.provenance import provenance
from lang1core.publish import published_file, write_json

log = logging.getLogger(__name__)


@dataclass
class ScoreSettings:
    max_note_tokens: int = 512  # study: notes right-truncated to 512 tokens
    k_shot: int = 0  # solved training examples prepended (k-shot recipe)
    batch_size: int = 16  # examples per forward pass when scoring
    max_examples: int | None = None  # cap per split (seeded sample; None = all)
    full_splits: tuple[str, ...] = ()  # splits scored in full whatever max_examples says...
    full_tasks: tuple[str, ...] | None = None  # ...for these tasks (None: all; a finetune: its own)
    seed: int = 3407  # the study's seed; the workflow passes the config's

    def cap(self, split: str, task: str) -> int | None:
        if self.full_tasks is not None and task not in self.full_tasks:
            return self.max_examples
        return split_cap(split, self.max_examples, self.full_splits)


def split_cap(split: str, max_examples: int | None, full_splits) -> int | None:
    """Examples scored on `split`: all on the full splits, else at most max_examples."""
    return None if split in full_splits else max_examples


def remede_path(remede_dir, task: str, split: str) -> Path:
    return Path(remede_dir, task, f"{split}.parquet")


def prediction_frame(data: TaskData, probs: np.ndarray, ppl: np.ndarray | None) -> pl.DataFrame:
    K = data.n_options
    cols = {
        "example_id": pl.Series(data.example_ids, dtype=pl.Utf8),
        "patient_id": pl.Series(data.patient_ids, dtype=pl.Utf8),
        "label": pl.Series(data.labels.astype(np.int64), dtype=pl.Int64),
    }
    probs = probs.reshape(len(data), K) if len(data) else np.zeros((0, K))
    for k in range(K):  # NaN (an option the row's question lacks) -> null
        col = probs[:, k] if k < probs.shape[1] else np.full(len(data), np.nan)
        cols[prob_column(k)] = pl.Series(col.astype(np.float64), dtype=pl.Float64, nan_to_null=True)
    qa = [None] * len(data) if ppl is None else [float(v) for v in ppl]
    cols["qa_ppl"] = pl.Series(qa, dtype=pl.Float64)
    return pl.DataFrame(cols)


def write_predictions(path: Path, frame: pl.DataFrame, modes: tuple[int, int] = (FILE_MODE, DIR_MODE)) -> None:
    """Predictions name examples and patients: owner-only (`modes`: file, folder; the workflow
    passes export.file_mode/dir_mode), published whole."""
    with published_file(path, *modes) as tmp:
        frame.write_parquet(tmp)


def pick_shots(train: TaskData, k: int, seed: int) -> list[tuple[str, int]]:
    """k training examples (seeded), covering as many classes as k allows."""
    if k <= 0 or len(train) == 0:
        return []
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(train))
    chosen, seen = [], set()
    for i in order:  # first one per class, then fill
        if train.labels[i] not in seen:
            chosen.append(i)
            seen.add(train.labels[i])
        if len(chosen) == k:
            break
    for i in order:
        if len(chosen) == k:
            break
        if i not in chosen:
            chosen.append(i)
    rng.shuffle(chosen)
    return [(train.texts[i], int(train.labels[i])) for i in chosen]


# Notes scored per call: every task's examples on one block of notes are encoded and scored
# together, so memory stays bounded on the largest splits.
NOTES_PER_CALL = 2048


def predict_tasks(model, tok, remede_dir, tasks, splits, out_dir, s: ScoreSettings,
                  shots: dict[str, list] | None = None, modes: tuple[int, int] = (FILE_MODE, DIR_MODE)
                  ) -> dict[str, int]:
    """Score every (task, split) and write its parquet; returns examples scored per task.

    The tasks of a split are scored together, note by note, so a note that several tasks ask
    about runs once (prefix sharing, `lang1core.finetune.scoring`): exact, as one model
    scores them all."""
    counts = {task: 0 for task in tasks}
    seq = M.max_seq_len(model)
    for split in splits:
        datas, paths = {}, {}
        for task in tasks:
            paths[task] = path = remede_path(remede_dir, task, split)
            data = read_task(path, task)
            n_all = len(data)
            datas[task] = data = data.sample(s.cap(split, task), s.seed)
            if len(data) < n_all:
                log.info("%s: scoring %d of %d examples (max_examples)", path, len(data), n_all)
        asked: dict[str, list[tuple[str, int]]] = {}  # note text -> (task, row) asking it
        for task, data in datas.items():
            for i, text in enumerate(data.texts):
                asked.setdefault(text, []).append((task, i))
        probs = {t: np.full((len(d), d.n_options), np.nan) for t, d in datas.items()}
        ppl = {t: np.zeros(len(d)) for t, d in datas.items()}
        texts = list(asked)
        for b in range(0, len(texts), NOTES_PER_CALL):
            rows = [m for text in texts[b : b + NOTES_PER_CALL] for m in asked[text]]
            enc = []
            for task, i in rows:
                data = datas[task]
                enc.append(encode_example(
                    tok, data.texts[i], data.question_of(i), data.options_of(i),
                    int(data.labels[i]), s.max_note_tokens, shots=(shots or {}).get(task, ()),
                    max_seq_len=seq, name=f"{paths[task]} example {data.example_ids[i]}"))
            p, q = score(model, enc, tok.pad_id, s.batch_size)
            for (task, i), pr, pp in zip(rows, p, q):
                k = min(len(pr), probs[task].shape[1])
                probs[task][i, :k], ppl[task][i] = pr[:k], pp
            log.info("%s: %d of %d notes scored (%d examples)", split,
                     min(b + NOTES_PER_CALL, len(texts)), len(texts), len(rows))
        for task, data in datas.items():
            write_predictions(Path(out_dir, task, f"{split}.parquet"),
                              prediction_frame(data, probs[task], ppl[task]), modes)
            counts[task] += len(data)
            log.info("%s/%s: %d examples scored", task, split, len(data))
    return counts


def check_kernels(model, what: str) -> dict:
    """The runtime kernel self-check (lang1core.model.selfcheck) at the model's shapes, in the
    precision scoring uses (bfloat16 autocast on CUDA); {} when no Triton kernel is in use."""
    from lang1core.model.config import ModelConfig
    from lang1core.model.selfcheck import guard_kernels

    cfg = getattr(model, "config", None)
    if not isinstance(cfg, ModelConfig):
        return {}
    p = next(model.parameters())
    return guard_kernels(cfg, p.device, dtype=p.dtype, autocast=p.device.type == "cuda",
                         seq_len=cfg.max_seq_len, what=what)


def write_run_json(out_dir, config, seed, **fields) -> None:
    info = {k: fields.get(k) for k in RUN_JSON_KEYS}
    info["seed"] = seed
    info.update({k: v for k, v in fields.items() if k not in RUN_JSON_KEYS})
    info["provenance"] = provenance(config, seed)
    write_json(Path(out_dir, "run.json"), info, default=str)


def run_prompted(*, model_name, recipe, kind, base, remede_dir, tasks, splits, out_dir,
                 settings: ScoreSettings, config, seed, device="auto",
                 probe_splits=()) -> None:
    """Zero-shot or k-shot predictions of a base model (no training); `probe_splits` also
    scores the reading-comprehension probe (remede/probe/{split}.parquet) zero-shot, as
    task `probe` (prob columns up to the most options; null where a question has fewer)."""
    model, tok, ptok = M.load_base(base, device=device)
    kernel_check = check_kernels(model, f"scoring {model_name}/{recipe}")
    shots = None
    if settings.k_shot > 0:
        shots = {t: pick_shots(read_task(remede_path(remede_dir, t, "train"), t),
                               settings.k_shot, seed) for t in tasks}
    modes = config_modes(config)
    predict_tasks(model, tok, remede_dir, tasks, splits, out_dir, settings, shots, modes)
    if probe_splits:
        # The probe is no claim's evidence: capped like any other split.
        predict_tasks(model, tok, remede_dir, ["probe"], probe_splits, out_dir,
                      replace(settings, k_shot=0, full_tasks=()), modes=modes)
    write_run_json(out_dir, config, seed, model=model_name, recipe=recipe, kind=kind,
                   base=base_model(model_name), base_dir=str(base), k=settings.k_shot,
                   pretrain_tokens=ptok, finetune_tokens=0, kernel_check=kernel_check)


@dataclass
class TrainSettings:
    loop: LoopConfig
    lr: float | None = None  # fixed rate; None runs the search
    search_trials: int = 5
    search_steps: int = 100
    lr_min: float = 1e-6
    lr_max: float = 1e-3
    max_eval_examples: int | None = None  # validation examples per task for early stopping
    lora: bool = False
    lora_rank: int = 8
    lora_alpha: float = 16
    lora_dropout: float = 0.05
    lora_targets: tuple[str, ...] = ("q", "v")
    save_checkpoint: bool = True


def run_finetune(*, model_name, recipe, kind, base, tokenizer_file=None, model_config=None,
                 remede_dir, train_tasks, predict_tasks_, splits, out_dir, work_dir,
                 n_train=None, train: TrainSettings, score_settings: ScoreSettings,
                 config, seed, device="auto") -> None:
    """Finetune `base` (a model dir, or None for random init) on `train_tasks` and predict
    `predict_tasks_` on every split. Joint runs (several train tasks) scale steps by the
    number of tasks."""
    from lang1core.finetune import lora as L
    from lang1core.finetune.search import lr_search

    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    model0, tok, ptok = M.load_base(base, tokenizer_file, model_config, seed, device)
    if train.lora:
        n = L.apply_lora(model0, train.lora_targets, train.lora_rank, train.lora_alpha,
                         train.lora_dropout)
        log.info("LoRA on %d linears (%s)", n, ",".join(train.lora_targets))
    kernel_check = check_kernels(model0, f"finetuning {model_name}/{recipe}")
    seq = M.max_seq_len(model0)
    mnt = score_settings.max_note_tokens
    train_enc, val_enc, n_used = {}, {}, {}
    for i, t in enumerate(train_tasks):
        tr = read_task(remede_path(remede_dir, t, "train"), t).sample(n_train, seed + i)
        va = read_task(remede_path(remede_dir, t, "val"), t).sample(train.max_eval_examples, seed)
        n_used[t] = len(tr)
        train_enc[t], val_enc[t] = encode_all(tok, tr, mnt, seq), encode_all(tok, va, mnt, seq)
        log.info("%s: %d training, %d validation examples", t, len(tr), len(va))
    scale = len(train_tasks)
    loop = replace(train.loop, max_steps=train.loop.max_steps * scale, seed=seed)
    init_state = copy.deepcopy(model0.state_dict())

    if train.lr is not None:
        lr = train.lr
        write_table_fixed(work_dir / "search.csv", lr)
    else:
        steps = max(1, min(train.search_steps * scale, loop.max_steps))

        def objective(trial_lr):
            model0.load_state_dict(init_state)
            cfg = replace(loop, lr=trial_lr, max_steps=steps, eval_every=steps,
                          patience=steps + 1)
            r = finetune(model0, tok, train_enc, val_enc, cfg)
            final = r.curve[-1]["val_metric"]
            return final, {"steps": r.steps, "final_train_loss": r.curve[-1]["train_loss"]}

        lr = lr_search(objective, work_dir / "search.db", work_dir / "search.csv",
                       train.search_trials, train.lr_min, train.lr_max, seed)
    model0.load_state_dict(init_state)
    result = finetune(model0, tok, train_enc, val_enc, replace(loop, lr=lr))
    write_curve(work_dir / "curve.csv", result.curve)
    if train.lora:
        L.merge_lora(model0)
    if train.save_checkpoint:
        M.save_model(model0, work_dir / "checkpoint", tok,
                     {"base": str(base), "recipe": recipe, "lr": lr, "best_step": result.best_step,
                      "tokens_seen": ptok, "finetune_tokens": result.tokens,
                      "kernel_check": kernel_check})
    # Other tasks' predictions feed only the transfer heatmap: capped, so a single-task run
    # scores its own task in full without paying for every task's.
    predict_tasks(model0, tok, remede_dir, predict_tasks_, splits, out_dir,
                  replace(score_settings, full_tasks=tuple(train_tasks)), modes=config_modes(config))
    write_run_json(out_dir, config, seed, model=model_name, recipe=recipe, kind=kind,
                   base=base_model(model_name),
                   base_dir=str(base) if base is not None else "random init",
                   train_task=",".join(train_tasks), n_train=sum(n_used.values()), k=0,
                   pretrain_tokens=ptok, finetune_tokens=result.tokens, lr=lr,
                   best_step=result.best_step, steps=result.steps,
                   best_val_metric=result.best_metric, lora=train.lora, kernel_check=kernel_check)


def write_table_fixed(path: Path, lr: float) -> None:
    with published_file(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["trial", "state", "lr", "value"])
        w.writerow([0, "FIXED", lr, ""])


def write_curve(path: Path, curve: list[dict]) -> None:
    with published_file(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["step", "train_loss", "val_metric", "lr", "tokens"])
        w.writeheader()
        w.writerows(curve)


def run_tfidf(*, task, remede_dir, splits, out_dir, config, seed, max_features=50000,
              max_examples=None, full_splits=()) -> None:
    """TF-IDF + logistic regression trained on `task`'s train split, predicting its splits."""
    from lang1core.finetune.tfidf import TfidfBaseline

    tr = read_task(remede_path(remede_dir, task, "train"), task)
    va = read_task(remede_path(remede_dir, task, "val"), task)
    clf = TfidfBaseline(max_features=max_features, seed=seed).fit(tr, va)
    for split in splits:
        data = read_task(remede_path(remede_dir, task, split), task).sample(
            split_cap(split, max_examples, full_splits), seed)
        write_predictions(Path(out_dir, task, f"{split}.parquet"),
                          prediction_frame(data, clf.predict(data), None), config_modes(config))
    write_run_json(out_dir, config, seed, model="tfidf", recipe=task, kind="tfidf",
                   base=None, base_dir="tfidf+logistic regression", train_task=task, n_train=len(tr), k=0,
                   pretrain_tokens=0, finetune_tokens=0, lr=None, C=clf.c)


def settings_from_config(section: dict, seed: int, lora: bool = False
                         ) -> tuple[ScoreSettings, TrainSettings]:
    """The one way the `finetune:` section becomes run settings, for the workflow's rules and
    `lang1 score --config` alike. `section` is checked, with the schema's defaults filled in
    (lang1core.settings.check_config), so every key is present."""
    s = section
    score_settings = ScoreSettings(
        max_note_tokens=int(s["max_note_tokens"]), k_shot=int(s["k_shot"]),
        batch_size=int(s["eval_batch_size"]), max_examples=s["max_predict_examples"],
        full_splits=tuple(s["full_splits"]), seed=seed,
    )
    loop = LoopConfig(
        max_steps=int(s["max_steps"]), batch_size=int(s["batch_size"]),
        patience=int(s["patience"]), eval_every=int(s["eval_every"]),
        weight_decay=float(s["weight_decay"]), betas=tuple(float(b) for b in s["betas"]),
        eps=float(s["eps"]), eval_batch_size=int(s["eval_batch_size"]), seed=seed,
    )
    lo = s["lora"]
    train = TrainSettings(
        loop=loop, lr=s["lr"], search_trials=int(s["search_trials"]),
        search_steps=int(s["search_steps"]), lr_min=float(s["lr_range"][0]),
        lr_max=float(s["lr_range"][1]), max_eval_examples=s["max_eval_examples"],
        lora=lora, lora_rank=int(lo["rank"]), lora_alpha=float(lo["alpha"]),
        lora_dropout=float(lo["dropout"]), lora_targets=tuple(lo["targets"]),
        save_checkpoint=bool(s["save_checkpoints"]),
    )
    return score_settings, train
