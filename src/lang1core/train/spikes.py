"""Loss-spike and NaN/Inf detection.

The study watched its loss curves and restarted diverging runs by hand from the last good
checkpoint. Here the trainer asks `SpikeDetector.check(loss)` before every optimizer
update; a non-finite loss or one far above the recent median is refused, and the trainer
rolls back (trainer.py). The detector's window is part of the checkpoint so a resumed run
judges the next step exactly as the uninterrupted run would.
"""

from __future__ import annotations

import math
from collections import deque

from lang1core.train.config import SpikeConfig


class SpikeDetector:
    def __init__(self, cfg: SpikeConfig):
        self.cfg = cfg
        self.history: deque[float] = deque(maxlen=cfg.window)
        self.seen = 0

    def check(self, loss: float) -> str | None:
        """None if the loss is acceptable, else the reason ("non-finite" or "spike")."""
        if not math.isfinite(loss):
            return "non-finite"
        if (self.seen >= self.cfg.skip_first and len(self.history) == self.cfg.window
                and loss > self.cfg.factor * self.median()):
            return "spike"
        return None

    def accept(self, loss: float) -> None:
        self.history.append(float(loss))
        self.seen += 1

    def median(self) -> float:
        values = sorted(self.history)
        n = len(values)
        return values[n // 2] if n % 2 else 0.5 * (values[n // 2 - 1] + values[n // 2])

    def state_dict(self) -> dict:
        return {"history": list(self.history), "seen": self.seen}

    def load_state_dict(self, state: dict) -> None:
        self.history = deque(state["history"], maxlen=self.cfg.window)
        self.seen = int(state["seen"])
