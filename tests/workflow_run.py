"""Run the workflow on a private copy of its files, as a user would from a fresh clone.

Each run gets its own folder (Snakefile, config, workflow/, slurm/) so runs never share
Snakemake's locks or results, and tests can compare one run's outputs with another's.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ["Snakefile", "config.yaml", "configs", "workflow", "slurm", "environment.yml"]
TEST_CONFIG = ["--configfile", "configs/test.yaml"]
# Files whose bytes must not depend on where or how the workflow ran.
DETERMINISTIC_GLOBS = ["metrics/**/*.json", "tables/*.csv", "remede/**/*.parquet", "export/*.csv"]


def copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dest / name)
    return dest


def snakemake(workdir: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir, capture_output=True, text=True, timeout=timeout,
    )


def results_root(workdir: Path) -> Path:
    return workdir / "results-test"


def fingerprint(root: Path) -> dict[str, str]:
    """sha256 of every deterministic output under a results root, keyed by relative path."""
    out = {}
    for pattern in DETERMINISTIC_GLOBS:
        for path in sorted(root.glob(pattern)):
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
