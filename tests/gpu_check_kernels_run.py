"""The GPU check's kernel section on the CPU interpreter (float32, interpreter-sized shapes),
run by tests/test_gpu_check.py with TRITON_INTERPRET=1 in a child process (bench/ on PYTHONPATH).

    PYTHONPATH=bench python tests/gpu_check_kernels_run.py [--break rmsnorm]

--break makes that kernel's output 10% off. Prints RESULT [rows as dicts].
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import torch

import gpu_sections as G

from lang1core.kernels import rmsnorm as rn

if __name__ == "__main__":
    if sys.argv[1:] == ["--break", "rmsnorm"]:
        real = rn.rmsnorm
        rn.rmsnorm = lambda *a, **k: real(*a, **k) * 1.1
    torch.set_num_threads(1)
    rows = []
    G.kernels(G.Context(torch.device("cpu"), quick=True, kernel_dtypes=(torch.float32,), kernel_size="cpu"),
              rows.append)
    print("RESULT " + json.dumps([asdict(r) for r in rows]))
