"""Which kernel paths can run here, decided once per (kernel, device type).

A Triton kernel runs on a CUDA tensor, or anywhere when TRITON_INTERPRET=1 (the CPU
interpreter, used by the tests), unless the runtime self-check (lang1core.model.selfcheck)
found it wrong for this run's shapes and disabled it. Otherwise the caller falls back to
PyTorch and this module logs that once per kernel.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache

import torch

from lang1core.logs import warn_once

log = logging.getLogger(__name__)

# kernel -> why it is off for the rest of this process (set by the self-check)
_disabled: dict[str, str] = {}


@lru_cache(maxsize=None)
def triton_importable() -> bool:
    try:
        import triton  # noqa: F401 - imported only to test that it loads
        import triton.language  # noqa: F401 - imported only to test that it loads
    except Exception:  # ImportError, or a broken install
        return False
    return True


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def triton_runs_on(device: torch.device) -> bool:
    """True when Triton kernels can execute on `device` at all (ignoring the self-check)."""
    return triton_importable() and (device.type == "cuda" or interpreting())


def disable_kernel(kernel: str, reason: str) -> None:
    """Route `kernel` to its PyTorch path for the rest of the process."""
    _disabled[kernel] = reason


def enable_kernel(kernel: str) -> None:
    """Undo disable_kernel (a later self-check passed at this run's shapes)."""
    _disabled.pop(kernel, None)


def disabled_kernels() -> dict[str, str]:
    return dict(_disabled)


def reset_disabled() -> None:
    """Re-enable every kernel (a new run in the same process checks them again)."""
    _disabled.clear()


def triton_usable(x: torch.Tensor, kernel: str) -> bool:
    """True when the Triton `kernel` can run on tensor `x`; else warn once and return False."""
    if kernel in _disabled:
        reason = f"disabled: {_disabled[kernel]}"
    elif not triton_importable():
        reason = "triton is not installed"
    elif x.is_cuda or interpreting():
        return True
    else:
        reason = f"tensors are on {x.device.type} and TRITON_INTERPRET is not set"
    warn_once(log, f"fallback:{kernel}:{x.device.type}:{reason}",
              f"Triton {kernel} kernel unavailable ({reason}); falling back to the PyTorch path")
    return False
