"""Provenance stamped on every result: which config, which code, which seed.

A result file without these cannot be traced back to the run that made it, so every stage
that writes metrics or checkpoints calls `provenance(...)` and stores the dict beside them.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from lang1core import __version__


def config_hash(config: Any) -> str:
    """Stable short hash of a JSON-serialisable config (key order does not matter)."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def file_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes, read in chunks so large checkpoints do not fill memory."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def code_version() -> str:
    """Package version plus the git commit (and '-dirty') when run from a checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return f"{__version__}+{commit}"


def provenance(config: Any, seed: int | None = None, **files: str | Path) -> dict:
    """The provenance block: config hash, code version, seed, and a hash per named input file."""
    out: dict[str, Any] = {
        "config_hash": config_hash(config),
        "code_version": code_version(),
        "seed": seed,
    }
    if files:
        out["files"] = {name: file_hash(p) for name, p in files.items()}
    return out
