"""Throughput and peak memory of the synthetic hospital (issue 2's benchmark).

Each size runs in a fresh Python process (so peak RSS belongs to that run alone) that writes
all five tables and the oracle to a temporary folder. Prints, per size: patients, notes
written, wall seconds, notes per second and peak resident memory. The goal is >= 10,000
notes/s on 2 cores and a peak that does not grow with n_patients (it grows with chunk_size).

    python bench/synth.py                       # 20,000 and 100,000 patients
    python bench/synth.py --sizes 5000 100000 --chunk-size 2000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, re, sys, time
from pathlib import Path
from lang1core.synth import SynthConfig, generate
n, chunk, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
counts = generate(SynthConfig(n_patients=n, chunk_size=chunk), out + "/export", progress=False)
wall = time.perf_counter() - t0
# VmHWM: peak RSS of this process image (ru_maxrss would report the forking parent's if larger).
kb = int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"counts": counts, "wall_s": wall, "peak_rss_mb": kb / 1024}))
"""

BASELINE = r"""
import json, re
from pathlib import Path
import lang1core.synth.writer  # noqa: F401  (imports polars, numpy, scipy, pyarrow)
import pycomorb  # noqa: F401
kb = int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"peak_rss_mb": kb / 1024}))
"""


def run_one(n: int, chunk: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="synth_bench_") as tmp:
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(chunk), tmp], check=True,
                             capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000], help="n_patients to run")
    p.add_argument("--chunk-size", type=int, default=5000, help="patients per chunk (the config default)")
    args = p.parse_args()
    base = json.loads(subprocess.run([sys.executable, "-c", BASELINE], check=True, capture_output=True,
                                     text=True).stdout.strip())
    print(f"imports alone: peak RSS {base['peak_rss_mb']:.0f} MB")
    print(f"{'patients':>9} {'chunk':>6} {'notes':>10} {'encounters':>10} {'wall s':>7} {'notes/s':>9} "
          f"{'peak RSS MB':>11}")
    for n in args.sizes:
        r = run_one(n, args.chunk_size)
        notes = r["counts"]["notes"]
        print(f"{n:>9,} {args.chunk_size:>6,} {notes:>10,} {r['counts']['encounters']:>10,} {r['wall_s']:>7.1f} "
              f"{notes / r['wall_s']:>9,.0f} {r['peak_rss_mb']:>11.0f}", flush=True)


if __name__ == "__main__":
    main()
