"""Supervised finetuning on the answer letter (docs/study.md#finetuning).

AdamW (β 0.9/0.999, eps 1e-5, weight decay 0.02), no gradient clipping, cosine annealing
from the learning rate to 0 over `max_steps` without warmup; validation AUROC every
`eval_every` steps (mean over tasks for joint runs), early stopping after `patience` steps
without improvement, and the best weights restored at the end. The loss is the cross-entropy
of the gold letter over the whole vocabulary at the answer position.

Joint runs pass several tasks: each batch holds an even share of every task.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from lang1core.finetune.data import TaskData, auroc
from lang1core.finetune.scoring import Encoded, autocast, encode_example, letter_logits, score
from lang1core.finetune.tokens import Tokenizer

log = logging.getLogger(__name__)


@dataclass
class LoopConfig:
    lr: float = 1e-4  # peak learning rate (found by the search)
    max_steps: int = 5120  # study: at most 5120 steps
    batch_size: int = 8  # examples per step (split evenly between tasks in joint runs)
    patience: int = 300  # steps without a better validation AUROC before stopping
    eval_every: int = 50  # steps between validation passes
    weight_decay: float = 0.02
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-5
    eval_batch_size: int = 16
    # Unless two classes have this many validation examples each, AUROC is too noisy to stop
    # on and the gold letter's log-likelihood decides (the claims report's rule for a split).
    min_class_examples: int = 10
    seed: int = 0
    restore_best: bool = True  # load the best validation weights at the end


@dataclass
class LoopResult:
    best_metric: float  # mean validation AUROC (or -NLL where AUROC is undefined)
    best_step: int
    steps: int  # steps actually run
    tokens: int  # prompt tokens trained on (no padding)
    curve: list[dict] = field(default_factory=list)


def encode_all(tok: Tokenizer, data: TaskData, max_note_tokens: int, max_seq_len) -> list[Encoded]:
    return [
        encode_example(
            tok, t, data.question, data.options, int(y), max_note_tokens,
            max_seq_len=max_seq_len, name=f"{data.source} example {eid}",
        )
        for t, y, eid in zip(data.texts, data.labels, data.example_ids)
    ]


def validation_metric(model, tok, val: dict[str, list[Encoded]], batch_size: int,
                      min_class_examples: int) -> float:
    """Mean over tasks of the validation AUROC; a task whose validation split lacks two classes
    with `min_class_examples` each (a handful of deaths, or a single class) contributes
    its mean log-likelihood of the gold letter instead (still: higher is better), so early
    stopping follows a measurable signal on small splits. All tasks are scored in one call, so
    notes they share run once."""
    enc = [e for task_enc in val.values() for e in task_enc]
    all_probs, _ = score(model, enc, tok.pad_id, batch_size)
    values, start = [], 0
    for task_enc in val.values():
        if not task_enc:
            continue
        probs = all_probs[start : start + len(task_enc), : len(task_enc[0].letter_ids)]
        start += len(task_enc)
        labels = np.array([e.label for e in task_enc])
        counts = np.bincount(labels, minlength=probs.shape[1])
        a = auroc(labels, probs) if np.sort(counts)[-2] >= min_class_examples else None
        if a is None:
            a = float(np.mean(np.log(probs[np.arange(len(task_enc)), labels] + 1e-12)))
        values.append(a)
    return float(np.mean(values)) if values else float("nan")


class _Cycler:
    """Endless seeded reshuffled passes over one task's examples."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.n, self.rng, self.order, self.pos = n, rng, np.array([], dtype=int), 0

    def take(self, k: int) -> list[int]:
        out = []
        while len(out) < k:
            if self.pos >= len(self.order):
                self.order, self.pos = self.rng.permutation(self.n), 0
            out.append(int(self.order[self.pos]))
            self.pos += 1
        return out


def mixed_batch(train, tasks, cyclers, base: int, remainder: int, rng) -> list[Encoded]:
    """`base` examples of every task plus one more for `remainder` random tasks."""
    extra = set(rng.permutation(len(tasks))[:remainder].tolist())
    batch = []
    for i, t in enumerate(tasks):
        batch += [train[t][j] for j in cyclers[t].take(base + int(i in extra))]
    return batch


def trainable_parameters(model) -> list[torch.nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def make_optimizer(model, cfg: LoopConfig) -> torch.optim.Optimizer:
    params = trainable_parameters(model)
    # Decay matrices only (norm gains and biases are not decayed), as in pretraining.
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
    )


def cosine_lr(step: int, max_steps: int, lr: float) -> float:
    """Cosine annealing from lr (step 0) to 0 (step max_steps), no warmup."""
    return lr * 0.5 * (1 + math.cos(math.pi * min(step, max_steps) / max(max_steps, 1)))


def finetune(
    model: torch.nn.Module,
    tok: Tokenizer,
    train: dict[str, list[Encoded]],
    val: dict[str, list[Encoded]],
    cfg: LoopConfig,
    on_eval: Callable[[int, float], None] | None = None,
) -> LoopResult:
    """Train `model` in place; restores the best validation weights before returning."""
    tasks = [t for t, enc in train.items() if enc]
    if not tasks:
        raise ValueError("no training examples in any task")
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    cyclers = {t: _Cycler(len(train[t]), np.random.default_rng([cfg.seed, i]))
               for i, t in enumerate(tasks)}
    # Even share per task (at least one each); the remainder goes to randomly chosen tasks
    # so the batch size is kept.
    base = max(cfg.batch_size // len(tasks), 1)
    remainder = max(cfg.batch_size - base * len(tasks), 0)
    opt = make_optimizer(model, cfg)
    model.train()
    curve: list[dict] = []
    best = (validation_metric(model, tok, val, cfg.eval_batch_size, cfg.min_class_examples), 0)
    best_state = _snapshot(model)
    curve.append({"step": 0, "train_loss": None, "val_metric": best[0], "lr": cfg.lr, "tokens": 0})
    log.info("step 0: validation %.4f", best[0])
    tokens, losses, step = 0, [], 0
    t0 = time.time()
    for step in range(1, cfg.max_steps + 1):
        batch = mixed_batch(train, tasks, cyclers, base, remainder, rng)
        lr = cosine_lr(step - 1, cfg.max_steps, cfg.lr)
        for g in opt.param_groups:
            g["lr"] = lr
        with autocast(next(model.parameters()).device):
            logits = letter_logits(model, batch, tok.pad_id)  # [B, V]
        target = torch.tensor([e.ids[-1] for e in batch], device=logits.device)
        loss = F.cross_entropy(logits.float(), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        tokens += sum(len(e.ids) for e in batch)
        losses.append(float(loss.detach()))
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            metric = validation_metric(model, tok, val, cfg.eval_batch_size, cfg.min_class_examples)
            curve.append({"step": step, "train_loss": float(np.mean(losses)),
                          "val_metric": metric, "lr": lr, "tokens": tokens})
            log.info("step %d: train loss %.4f, validation %.4f (%.1f steps/s)",
                     step, np.mean(losses), metric, step / (time.time() - t0))
            losses = []
            if on_eval is not None:
                on_eval(step, metric)
            # With no validation examples at all (nan) the latest weights are kept.
            if metric > best[0] or math.isnan(metric):
                best, best_state = (metric, step), _snapshot(model)
            elif step - best[1] >= cfg.patience:
                log.info("early stop at step %d: best %.4f at step %d", step, *best)
                break
    if cfg.restore_best:
        model.load_state_dict(best_state, strict=False)
    model.eval()
    return LoopResult(best[0], best[1], step, tokens, curve)


def _snapshot(model) -> dict[str, torch.Tensor]:
    """CPU copy of the trainable weights (all that finetuning changes)."""
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {n: t.detach().to("cpu", copy=True) for n, t in model.state_dict().items() if n in names}
