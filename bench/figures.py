"""Time to draw every figure and dataset table from demo tables (PDF + PNG at 300 dpi).

    python bench/figures.py [--dpi 300]

Prints seconds per figure and the total; a Snakemake job adds interpreter start-up and
imports (about 1-2 s) on top of each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from lang1core.figures import DATASET_TABLES, FIGURES, render_all
from lang1core.figures.common import Options
from lang1core.figures.fixtures import write_tables
from lang1core.figures.style import Style


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dpi", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tables = Path(tmp) / "tables"
        write_tables(tables)
        opts = Options(style=Style(dpi=args.dpi), note="demo data")
        total = 0.0
        for name in [*FIGURES, *DATASET_TABLES]:
            t0 = time.perf_counter()
            render_all(tables, Path(tmp) / "out", opts, [name])
            dt = time.perf_counter() - t0
            total += dt
            print(f"{name:8s} {dt:6.2f} s")
        print(f"{'total':8s} {total:6.2f} s for {len(FIGURES) + len(DATASET_TABLES)} figures")


if __name__ == "__main__":
    main()
