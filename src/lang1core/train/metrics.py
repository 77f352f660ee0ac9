"""metrics.csv, throughput and model-FLOPs utilisation.

metrics.csv is a long log with one row per event, so training, validation, caller-supplied
evaluations and incidents (rollbacks, early stop) share one file:

    kind   train | val | eval | event
    step, tokens                optimizer steps and tokens seen when the row was written
    loss                        train: mean loss over the logging interval; val: held-out loss
    lr, grad_norm               train rows: LR of the last step, its pre-clip gradient norm
    tokens_per_s, mfu           train rows: throughput over the interval, all ranks together;
                                MFU against the device's peak (empty when the peak is unknown)
    memory_gb                   peak accelerator memory (CUDA) or peak process RSS (CPU)
    name, value                 eval/event rows: what was measured or happened, and its value
                                (event kernel_ok:<kernel> / kernel_fallback:<kernel>: the
                                kernel self-check's verdict, value its worst relative error)
"""

from __future__ import annotations

import csv
import resource
import sys
from pathlib import Path

import torch

COLUMNS = ["kind", "step", "tokens", "loss", "lr", "grad_norm", "tokens_per_s", "mfu",
           "memory_gb", "name", "value"]

# Dense bfloat16 tensor-core peaks in FLOP/s from the vendors' data sheets (no sparsity).
PEAK_BF16 = {
    "H200": 989.4e12, "H100 SXM": 989.4e12, "H100 NVL": 835e12, "H100 PCIe": 756e12,
    "H100": 989.4e12, "A100": 312e12, "L40S": 362e12, "A10G": 70e12, "L4": 121e12,
    "RTX 4090": 165e12, "V100": 125e12,
}


def peak_flops(device: torch.device) -> float | None:
    """Peak FLOP/s of one device, or None when unknown (CPU: MFU is left empty)."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_BF16.items():  # ordered: specific names before generic ones
        if key in name:
            return value
    return None


def flops_per_token(n_params: int, n_layers: int, dim: int, seq_len: int) -> float:
    """Training FLOPs per token: 6N for the matmuls over the weights (forward + backward)
    plus 12 * layers * dim * seq_len for attention scores (PaLM appendix B; nanoGPT)."""
    return 6.0 * n_params + 12.0 * n_layers * dim * seq_len


def memory_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 1e9
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return rss / (1e9 if sys.platform == "darwin" else 1e6)


class MetricsLog:
    """Append-only CSV that survives crashes: every row is flushed when written."""

    def __init__(self, path: str | Path, tensorboard_dir: str | Path | None = None):
        self.path = Path(path)
        self.tb = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:
                raise RuntimeError("pretrain.tensorboard is true but the tensorboard package is "
                                   "not installed (pip install tensorboard)") from err
            self.tb = SummaryWriter(str(tensorboard_dir))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._f = open(self.path, "a", newline="")
        self._w = csv.DictWriter(self._f, fieldnames=COLUMNS)
        if new:
            self._w.writeheader()
            self._f.flush()

    def write(self, kind: str, step: int, tokens: int, **values) -> None:
        unknown = set(values) - set(COLUMNS)
        if unknown:
            raise ValueError(f"metrics columns {sorted(unknown)} unknown; expected {COLUMNS}")
        row = {"kind": kind, "step": step, "tokens": tokens}
        for key, value in values.items():
            row[key] = f"{value:.6g}" if isinstance(value, float) else value
        self._w.writerow(row)
        self._f.flush()
        if self.tb is not None:
            for key, value in values.items():
                if isinstance(value, (int, float)) and key != "value":
                    self.tb.add_scalar(f"{kind}/{key}", value, step)
            if "name" in values and isinstance(values.get("value"), (int, float)):
                self.tb.add_scalar(f"{kind}/{values['name']}", values["value"], step)

    def reopen(self) -> None:
        """Re-open after the file was rewritten (truncate_after)."""
        self._f.close()
        self._f = open(self.path, "a", newline="")
        self._w = csv.DictWriter(self._f, fieldnames=COLUMNS)

    def close(self) -> None:
        self._f.close()
        if self.tb is not None:
            self.tb.close()


def truncate_after(path: str | Path, step: int) -> int:
    """Drop rows logged after optimizer step `step` (a resume or rollback replays them).

    Returns the number of rows dropped.
    """
    path = Path(path)
    if not path.exists():
        return 0
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    keep = [r for r in rows if int(r["step"]) <= step]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(keep)
    tmp.replace(path)
    return len(rows) - len(keep)


def read_metrics(path: str | Path, kind: str | None = None) -> list[dict]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [r for r in rows if kind is None or r["kind"] == kind]
