"""Audit a model for memorisation and identifier leakage before it is shared.

    lang1 audit results/pretrain/lang1/final --mix results/corpus/pretrain/clinical_general \\
        --reference results/pretrain/generalist/final --out lang1_audit.json

Reads the mix's train.parquet and mix_stats.json (canaries), RESULTS/corpus/clean.parquet
(held-out notes) and RESULTS/validated/patients.parquet (identifiers). Settings come from
the `audit:` section of the configs given (merged in order), else the defaults. Writes
numbers only (no note text, no identifier) and a figure; exits 1 when the audit fails.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "memorisation and identifier audit of a model: canary exposure, extraction, membership inference"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="model directory (Hugging Face Llama, with tokenizer.model)")
    p.add_argument("--mix", type=Path, required=True,
                   help="the pretraining mix folder of the model (train.parquet, mix_stats.json)")
    p.add_argument("--results", type=Path, default=Path("results"),
                   help="results folder holding corpus/clean.parquet and validated/patients.parquet")
    p.add_argument("--reference", type=Path, default=None,
                   help="reference model for the calibrated membership test (e.g. the generalist)")
    p.add_argument("--config", type=Path, nargs="*", default=[],
                   help="workflow config files, merged in order, whose audit: section and seed are used "
                        "(none: AuditSettings' defaults)")
    p.add_argument("--name", default=None, help="model name in the result (default: the directory's)")
    p.add_argument("--out", type=Path, default=Path("audit.json"), help="result JSON")
    p.add_argument("--figure", type=Path, nargs="*", default=None, help="figure files (default: OUT as .png)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")


def run(args: argparse.Namespace) -> int:
    from lang1core.audit.figure import draw
    from lang1core.audit.run import audit_model
    from lang1core.audit.settings import AuditSettings, audit_settings
    from lang1core.corpus.io import write_json
    from lang1core.logs import setup_logging
    from lang1core.provenance import provenance

    from lang1core.settings import load_config

    setup_logging()
    settings = audit_settings(load_config(args.config)) if args.config else AuditSettings()
    inputs = {"train": args.mix / "train.parquet", "mix_stats": args.mix / "mix_stats.json",
              "clean": args.results / "corpus" / "clean.parquet",
              "patients": args.results / "validated" / "patients.parquet"}
    for what, path in inputs.items():
        if not path.is_file():
            raise SystemExit(f"lang1 audit: {what} file not found: {path}")
    result = audit_model(args.model, train_parquet=inputs["train"], mix_stats=inputs["mix_stats"],
                         clean_parquet=inputs["clean"], patients_parquet=inputs["patients"], settings=settings,
                         reference_dir=args.reference, device=args.device, name=args.name)
    write_json(args.out, result, provenance(settings.to_dict(), settings.seed, mix_stats=inputs["mix_stats"]))
    draw(result, args.figure if args.figure is not None else [args.out.with_suffix(".png")])
    print(f"{result['model']}: {'PASS' if result['verdict']['pass'] else 'FAIL'} -> {args.out}")
    return 0 if result["verdict"]["pass"] else 1
