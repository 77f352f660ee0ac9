"""Size and speed of the synthetic hospital's lexicon.

Prints concepts per kind, surface forms, distinct word types, the build time of lexicon() in
a fresh process, draw() throughput for one concept with per-row sites and years, and
normalize() throughput (MB/s, after a one-off regex compile whose time is printed too) on
synthetic note-like text made from the lexicon's own forms and filler words.

    python bench/lexicon.py [--mb 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

BUILD = r"""
import json, time
import numpy, lang1core.synth.catalog  # imported first: timed separately from the build
t0 = time.perf_counter()
from lang1core.synth.lexicon import lexicon
lexicon()
print(json.dumps({"build_s": time.perf_counter() - t0}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=5.0, help="megabytes of text for normalize()")
    args = ap.parse_args()
    build = json.loads(subprocess.run([sys.executable, "-c", BUILD], check=True, capture_output=True,
                                      text=True).stdout)["build_s"]
    from lang1core.synth.lexicon import KINDS, lexicon

    lex = lexicon()
    forms = [f for c in lex.concepts.values() for f in c.forms]
    types = {w for f in forms for w in f.lower().split()}
    print("concepts per kind: " + ", ".join(f"{k} {len(lex.keys(k))}" for k in KINDS))
    print(f"concepts {len(lex.concepts)}, surface forms {len(forms)}, distinct word types {len(types)}")
    print(f"lexicon() build: {build:.2f} s (fresh process)")

    rng = np.random.default_rng(0)
    n = 1_000_000
    t0 = time.perf_counter()
    lex.draw("condition:chf", rng, n, site=rng.integers(0, 4, n), year=rng.integers(2003, 2025, n))
    print(f"draw: {n / (time.perf_counter() - t0) / 1e6:.1f} M forms/s (per-row site and year)")

    filler = np.array("the patient was seen today and is doing well with plan to continue current "
                      "management of home medications 40 mg daily follow up in clinic".split(), dtype=object)
    words = np.where(rng.random(200_000) < 0.1, rng.choice(np.array(forms, dtype=object), 200_000),
                     rng.choice(filler, 200_000))
    text = " ".join(words)
    text = (text * int(np.ceil(args.mb * 1e6 / len(text))))[: int(args.mb * 1e6)]
    t0 = time.perf_counter()
    lex.normalize("warm-up")
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lex.normalize(text)
    wall = time.perf_counter() - t0
    print(f"normalize: regex compile {compile_s:.2f} s, then {len(text) / wall / 1e6:.2f} MB/s "
          f"({args.mb:g} MB, 10% of words a known form)")


if __name__ == "__main__":
    main()
