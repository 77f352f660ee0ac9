"""Seconds per test of the memorisation audit of one model, and in all, on this machine.

    python bench/audit.py results/pretrain/lang1/final results/corpus/pretrain/clinical_general \\
        --results results --reference results/pretrain/generalist/final --threads 2

Settings from config.yaml's `audit:` section (or --config); a mix without canaries skips
that test. Prints wall-clock and CPU seconds (on a shared machine wall time includes waiting
for a core).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("mix", type=Path)
    ap.add_argument("--results", type=Path, default=Path("results"))
    ap.add_argument("--reference", type=Path, default=None)
    ap.add_argument("--config", type=Path, default=Path("config.yaml"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import json

    import torch

    from lang1core.audit import run as R
    from lang1core.audit.canaries import from_manifest
    from lang1core.audit.exposure import canary_exposures
    from lang1core.audit.extraction import extraction
    from lang1core.audit.notes import matched_notes
    from lang1core.audit.settings import audit_settings
    from lang1core.finetune.models import load_model_dir

    torch.set_num_threads(args.threads)
    from lang1core.settings import load_config

    s = audit_settings(load_config([args.config]))
    train, stats = args.mix / "train.parquet", json.loads((args.mix / "mix_stats.json").read_text())
    clean, patients = args.results / "corpus" / "clean.parquet", args.results / "validated" / "patients.parquet"
    model, tok = load_model_dir(args.model, torch.device("cpu"))
    model.eval()
    max_tokens = min(s.max_tokens, model.config.max_seq_len)
    times = {}

    def timed(name, fn):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        times[name] = (time.perf_counter() - w, time.process_time() - c)
        return out

    canaries = from_manifest(stats)
    if canaries:
        timed(f"canary exposure ({len(canaries)} x {s.n_candidates} candidates)",
              lambda: canary_exposures(model, tok, canaries, s.n_candidates, s.seed, max(s.batch_size, 64)))
    tr, ho = timed("matched note sample", lambda: matched_notes(train, clean, s.n_notes, s.seed))
    timed(f"extraction ({2 * tr.height} notes)", lambda: extraction(
        model, R._tokens(tok, tr["text"], max_tokens), R._tokens(tok, ho["text"], max_tokens),
        prefix=s.prefix_tokens, suffix=s.suffix_tokens, near=s.near_verbatim, batch_size=max(s.batch_size, 64)))
    timed(f"note losses ({2 * tr.height} notes, one model)", lambda: [
        R._losses(model, tok, d["text"], max_tokens, s.batch_size, "") for d in (tr, ho)])
    timed(f"identifier leakage ({s.n_samples} samples)",
          lambda: R._identifier_leakage(model, tok, train, clean, patients, s))
    w, c = time.perf_counter(), time.process_time()
    R.audit_model(args.model, train_parquet=train, mix_stats=args.mix / "mix_stats.json", clean_parquet=clean,
                  patients_parquet=patients, settings=s, reference_dir=args.reference, device="cpu")
    times["whole audit (with the reference model)"] = (time.perf_counter() - w, time.process_time() - c)
    print(f"{'part':<55} {'wall s':>8} {'CPU s':>8}")
    for name, (w, c) in times.items():
        print(f"{name:<55} {w:8.1f} {c:8.1f}")


if __name__ == "__main__":
    main()
