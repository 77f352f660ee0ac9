"""Input lists of the corpus and tokenizer rules, as plain functions of the config (no Snakemake).

Kept here, not in the .smk files, so the rule files hold only rules and stay lint-clean.
"""

from __future__ import annotations

import glob
from typing import Callable

CLINICAL = "clinical"
STDLIB = "stdlib"


def mix_inputs(corpus: dict, mix: str, res: Callable[..., str]) -> dict[str, str]:
    """Files a mix reads: clean notes if it uses `clinical`, general text if it uses others."""
    weights = corpus["mixes"][mix]
    inputs = {"encounters": res("validated", "encounters.parquet")}
    if CLINICAL in weights:
        inputs["clean"] = res("corpus", "clean.parquet")
    if any(s != CLINICAL for s in weights):
        inputs["general"] = res("corpus", "general.parquet")
    return inputs


def general_files(corpus: dict) -> list[str]:
    """Every file the general sources name, so that a changed file rebuilds general.parquet."""
    return sorted(p for entries in corpus["general"]["sources"].values() for e in entries if e != STDLIB
                  for p in glob.glob(e, recursive=True))


def tokenizer_inputs(tokenizer: dict, mixes: dict, res: Callable[..., str]) -> dict[str, str]:
    """The existing model to copy, or the training documents of `train_mix`."""
    if tokenizer["model"]:
        return {"existing": tokenizer["model"]}
    if tokenizer["train_mix"] not in mixes:
        raise ValueError(f"tokenizer.train_mix {tokenizer['train_mix']!r} is not a mix in corpus.mixes "
                         f"({sorted(mixes)})")
    return {"train": res("corpus", "pretrain", tokenizer["train_mix"], "train.parquet")}


def canary_settings(corpus: dict, source: str) -> dict | None:
    """{per_count, repetitions} when canaries go into the mixes, else None. `insert: auto`
    inserts them into the synthetic hospital's corpus only: a site's own export gets them when
    it asks (`insert: true`)."""
    c = corpus.get("canaries") or {}
    insert = c.get("insert", "auto")
    if insert is False or (insert == "auto" and source != "synthetic"):
        return None
    return {"per_count": int(c["per_count"]), "repetitions": [int(r) for r in c["repetitions"]]}
