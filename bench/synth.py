"""Throughput and peak memory of the synthetic hospital.

Each size runs in a fresh Python process (so peak RSS belongs to that run alone) that writes
all five tables and the oracle to a temporary folder with --workers processes. Prints, per
size: patients, notes written, wall seconds, notes per second, the peak resident memory of
the writing process and of the largest worker. The goal is >= 5,000 notes/s on 2 cores and
peaks that do not grow with n_patients (they grow with chunk_size).

    python bench/synth.py                       # 20,000 and 100,000 patients, 2 workers
    python bench/synth.py --sizes 5000 100000 --chunk-size 2000 --workers 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, re, resource, sys, time
from pathlib import Path
from lang1core.synth import SynthConfig, generate
n, chunk, out, workers = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
t0 = time.perf_counter()
counts = generate(SynthConfig(n_patients=n, chunk_size=chunk), out + "/export", progress=False, workers=workers)
wall = time.perf_counter() - t0
# VmHWM: peak RSS of this process image (ru_maxrss would report the forking parent's if larger);
# the workers' largest peak comes from the children's rusage once the pool has been joined.
kb = int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1))
child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if workers > 1 else 0
print(json.dumps({"counts": counts, "wall_s": wall, "peak_rss_mb": kb / 1024, "worker_rss_mb": child_kb / 1024}))
"""

BASELINE = r"""
import json, re
from pathlib import Path
import lang1core.synth.writer  # noqa: F401  (imports polars, numpy, scipy, pyarrow)
import pycomorb  # noqa: F401 - its import cost is part of the baseline
kb = int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"peak_rss_mb": kb / 1024}))
"""


def run_one(n: int, chunk: int, workers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="synth_bench_") as tmp:
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(chunk), tmp, str(workers)], check=True,
                             capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000], help="n_patients to run")
    p.add_argument("--chunk-size", type=int, default=5000, help="patients per chunk (the config default)")
    p.add_argument("--workers", type=int, default=2, help="processes rendering chunks (the synth rule uses 2)")
    args = p.parse_args()
    base = json.loads(subprocess.run([sys.executable, "-c", BASELINE], check=True, capture_output=True,
                                     text=True).stdout.strip())
    print(f"imports alone: peak RSS {base['peak_rss_mb']:.0f} MB")
    print(f"{'patients':>9} {'chunk':>6} {'notes':>10} {'encounters':>10} {'wall s':>7} {'notes/s':>9} "
          f"{'peak RSS MB':>11} {'worker MB':>9}")
    for n in args.sizes:
        r = run_one(n, args.chunk_size, args.workers)
        notes = r["counts"]["notes"]
        print(f"{n:>9,} {args.chunk_size:>6,} {notes:>10,} {r['counts']['encounters']:>10,} {r['wall_s']:>7.1f} "
              f"{notes / r['wall_s']:>9,.0f} {r['peak_rss_mb']:>11.0f} {r['worker_rss_mb']:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
