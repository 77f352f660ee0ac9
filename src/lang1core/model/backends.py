"""Which kernel paths can run here, decided once per (kernel, device type).

A Triton kernel runs on a CUDA tensor, or anywhere when TRITON_INTERPRET=1 (the CPU
interpreter, used by the tests). Otherwise the caller falls back to PyTorch and this module
logs that once per kernel (DESIGN §6.9).
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache

import torch

from lang1core.logs import warn_once

log = logging.getLogger(__name__)


@lru_cache(maxsize=None)
def triton_importable() -> bool:
    try:
        import triton  # noqa: F401
        import triton.language  # noqa: F401
    except Exception:  # ImportError, or a broken install
        return False
    return True


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def triton_usable(x: torch.Tensor, kernel: str) -> bool:
    """True when the Triton `kernel` can run on tensor `x`; else warn once and return False."""
    if not triton_importable():
        reason = "triton is not installed"
    elif x.is_cuda or interpreting():
        return True
    else:
        reason = f"tensors are on {x.device.type} and TRITON_INTERPRET is not set"
    warn_once(log, f"fallback:{kernel}:{x.device.type}",
              f"Triton {kernel} kernel unavailable ({reason}); falling back to the PyTorch path")
    return False
