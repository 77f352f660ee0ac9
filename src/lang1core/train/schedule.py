"""Learning-rate schedule: linear warmup, then cosine decay to a floor (docs/study.md#pretraining).

The study warmed up linearly for 2,000 steps and decayed along a cosine to 4e-5. The
schedule is a pure function of the optimizer step, so resuming needs only the step count;
`WarmupCosine` still carries a state_dict so a checkpoint records the exact settings it ran
with and refuses a resume that silently changes them.
"""

from __future__ import annotations

import math

import torch


def lr_at(step: int, *, max_lr: float, min_lr: float, warmup_steps: int, total_steps: int) -> float:
    """Learning rate for optimizer step `step` (0-based: the LR used by the (step+1)-th update).

    Warmup: max_lr * (step + 1) / warmup_steps for step < warmup_steps, so the first update
    is not made with LR 0. Then cosine from max_lr at `warmup_steps` to min_lr at
    `total_steps`; past the end the floor holds.
    """
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    span = max(1, total_steps - warmup_steps)
    progress = (step - warmup_steps) / span
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))


class WarmupCosine:
    """Sets the LR of every param group before each optimizer step."""

    def __init__(self, optimizer: torch.optim.Optimizer, *, max_lr: float, min_lr: float,
                 warmup_steps: int, total_steps: int):
        if min_lr > max_lr:
            raise ValueError(f"min_lr {min_lr} is above max lr {max_lr}; expected min_lr <= lr")
        if warmup_steps < 0 or total_steps < 1:
            raise ValueError(
                f"warmup_steps {warmup_steps} / total_steps {total_steps}: expected >= 0 and >= 1")
        self.optimizer = optimizer
        self.max_lr, self.min_lr = max_lr, min_lr
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        self.step_count = 0

    def lr(self, step: int | None = None) -> float:
        return lr_at(self.step_count if step is None else step, max_lr=self.max_lr,
                     min_lr=self.min_lr, warmup_steps=self.warmup_steps,
                     total_steps=self.total_steps)

    def apply(self) -> float:
        """Set the LR for the coming update and return it."""
        lr = self.lr()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def step(self) -> None:
        self.step_count += 1

    def state_dict(self) -> dict:
        return {"step_count": self.step_count, "max_lr": self.max_lr, "min_lr": self.min_lr,
                "warmup_steps": self.warmup_steps, "total_steps": self.total_steps}

    def load_state_dict(self, state: dict) -> None:
        for key in ("max_lr", "min_lr", "warmup_steps", "total_steps"):
            if state[key] != getattr(self, key):
                raise ValueError(
                    f"checkpoint scheduler {key}={state[key]} differs from this run's "
                    f"{getattr(self, key)}; resume with the same pretrain settings or start a "
                    "new output folder")
        self.step_count = int(state["step_count"])
