"""One model's audit: canary exposure, extraction, membership inference and identifier
leakage, each against the thresholds of `AuditSettings`, and a verdict.

The result holds numbers, counts and settings only: no note text, no identifier, no secret.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import polars as pl
import torch
from tqdm import tqdm

from lang1core.audit import canaries as C
from lang1core.audit import identifiers as I
from lang1core.audit import lm
from lang1core.audit.exposure import by_repetitions, canary_exposures
from lang1core.audit.extraction import extraction
from lang1core.audit.membership import membership
from lang1core.audit.notes import matched_notes, patient_sets
from lang1core.audit.settings import AuditSettings

log = logging.getLogger(__name__)


def _tokens(tok, texts, max_tokens: int) -> list[list[int]]:
    bos = [tok.bos_id] if tok.bos_id >= 0 else []
    return [(bos + tok.encode(t))[:max_tokens] for t in texts]


def _losses(model, tok, texts, max_tokens, batch_size, label) -> np.ndarray:
    seqs = _tokens(tok, texts, max_tokens)
    with tqdm(total=len(seqs), desc=f"loss {label}", unit="note", leave=False) as bar:
        return lm.mean_losses(model, seqs, batch_size, progress=bar.update)


def _check(name: str, value, threshold: float, reason: str | None = None, ci_low: float | None = None) -> dict:
    """A check passes at or below its threshold. With `ci_low` (an AUROC's interval) it fails
    only when the interval also excludes chance (0.5): a small sample's noise is no finding."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {"check": name, "value": None, "threshold": threshold, "pass": None,
                "status": f"not applicable: {reason or 'no data'}"}
    fails = value > threshold and (ci_low is None or ci_low > 0.5)
    out = {"check": name, "value": float(value), "threshold": threshold, "pass": not fails, "status": "ok"}
    if ci_low is not None:
        out["ci_low"] = ci_low
    return out


def verdict(result: dict, thresholds: dict) -> dict:
    """Each check against its threshold; the model passes when no applicable check fails."""
    can, ext, mem, ide = (result.get(k) or {} for k in ("canaries", "extraction", "membership", "identifiers"))
    reps = can.get("by_repetitions") or []
    loss, cal = mem.get("loss") or {}, mem.get("calibrated") or {}
    checks = [
        _check("canary exposure (largest mean over repetition counts, bits)",
               max((r["mean_exposure"] for r in reps), default=None), thresholds["max_exposure"], can.get("status")),
        _check("extraction excess (training - held-out, exact or near-verbatim)",
               max((v for v in (ext.get("exact_rate_excess"), ext.get("near_verbatim_rate_excess")) if v is not None),
                   default=None), thresholds["max_extraction_excess"], ext.get("status")),
        _check("membership-inference AUROC (loss)", loss.get("auroc"), thresholds["max_mia_auroc"],
               mem.get("status"), loss.get("ci_low")),
        _check("membership-inference AUROC (calibrated by the reference model)", cal.get("auroc"),
               thresholds["max_mia_auroc"], mem.get("status") or "no reference model", cal.get("ci_low")),
        _check("identifier leakage excess (training - held-out patients, any kind)",
               (ide.get("excess") or {}).get("any"), thresholds["max_identifier_excess"], ide.get("status")),
    ]
    failed = [c["check"] for c in checks if c["pass"] is False]
    return {"pass": not failed, "failed": failed, "checks": checks}


def audit_model(model_dir: str | Path, *, train_parquet: str | Path, mix_stats: str | Path,
                clean_parquet: str | Path, patients_parquet: str | Path, settings: AuditSettings,
                reference_dir: str | Path | None = None, device: str = "auto", name: str | None = None) -> dict:
    """Audit one Hugging Face model directory against the mix it was pretrained on."""
    from lang1core.finetune.models import load_model_dir, pick_device

    s, dev = settings, pick_device(device)
    torch.manual_seed(s.seed)
    model, tok = load_model_dir(model_dir, dev)
    model.eval()
    max_tokens = min(s.max_tokens, model.config.max_seq_len)
    stats = json.loads(Path(mix_stats).read_text())
    result: dict = {"model": name or Path(model_dir).name, "mix": stats.get("mix"),
                    "reference_model": Path(reference_dir).parent.name if reference_dir else None,
                    "settings": {**s.to_dict(), "max_tokens_used": max_tokens}}

    # 1. canaries
    inserted = C.from_manifest(stats)
    if inserted:
        log.info("canary exposure: %d canaries x %d candidates", len(inserted), s.n_candidates)
        rows = canary_exposures(model, tok, inserted, s.n_candidates, s.seed, batch_size=max(s.batch_size, 64))
        result["canaries"] = {"status": None, "n_candidates": s.n_candidates,
                              "max_possible_exposure": math.log2(s.n_candidates),
                              "by_repetitions": by_repetitions(rows), "per_canary": rows}
    else:
        result["canaries"] = {"status": "no canaries in the model's mix"}

    # 2-3. extraction and membership on matched training / held-out notes
    train, held = matched_notes(train_parquet, clean_parquet, s.n_notes, s.seed)
    log.info("matched notes: %d training / held-out pairs (by note type, site and year)", train.height)
    if train.height < 2:
        reason = "fewer than 2 matched training / held-out note pairs (a mix without clinical notes)"
        result["extraction"] = {"status": reason}
        result["membership"] = {"status": reason}
    else:
        log.info("extraction: %d-token prefixes, %d-token greedy continuations", s.prefix_tokens, s.suffix_tokens)
        result["extraction"] = {"status": None, **extraction(
            model, _tokens(tok, train["text"], max_tokens), _tokens(tok, held["text"], max_tokens),
            prefix=s.prefix_tokens, suffix=s.suffix_tokens, near=s.near_verbatim,
            batch_size=max(s.batch_size, 64))}
        tr_loss = _losses(model, tok, train["text"], max_tokens, s.batch_size, "training notes")
        ho_loss = _losses(model, tok, held["text"], max_tokens, s.batch_size, "held-out notes")
        ref_tr = ref_ho = None
        if reference_dir is not None and Path(reference_dir).resolve() != Path(model_dir).resolve():
            ref, ref_tok = load_model_dir(reference_dir, dev)
            ref.eval()
            ref_max = min(s.max_tokens, ref.config.max_seq_len)
            ref_tr = _losses(ref, ref_tok, train["text"], ref_max, s.batch_size, "reference, training notes")
            ref_ho = _losses(ref, ref_tok, held["text"], ref_max, s.batch_size, "reference, held-out notes")
            del ref
        result["membership"] = {"status": None, "note_types": sorted(set(train["note_type"])),
                                **membership(tr_loss, ho_loss, ref_tr, ref_ho, s.n_bootstrap, s.seed)}
        if ref_tr is None:
            result["membership"]["calibrated_status"] = "no reference model (or the model is the reference)"

    # 4. identifier leakage
    result["identifiers"] = _identifier_leakage(model, tok, train_parquet, clean_parquet, patients_parquet, s)
    result["verdict"] = verdict(result, s.thresholds)
    log.info("audit of %s: %s%s", result["model"], "PASS" if result["verdict"]["pass"] else "FAIL",
             "" if result["verdict"]["pass"] else f" ({'; '.join(result['verdict']['failed'])})")
    return result


def _identifier_leakage(model, tok, train_parquet, clean_parquet, patients_parquet, s: AuditSettings) -> dict:
    train_p, held_p = patient_sets(train_parquet, clean_parquet, s.n_patients, s.seed)
    n = min(len(train_p), len(held_p))
    if n == 0:
        return {"status": "no training patients (a mix without clinical notes) or no held-out patients"}
    train_p, held_p = train_p.head(n), held_p.head(n)
    patients = pl.read_parquet(patients_parquet, columns=["patient_id", "birth_date"])
    notes = (pl.scan_parquet(clean_parquet).select("patient_id", "text")
             .filter(pl.col("patient_id").is_in(pl.concat([train_p, held_p]).implode())).collect())
    tr_ids, ho_ids = I.disjoint(I.identifiers(train_p, patients, notes), I.identifiers(held_p, patients, notes))
    held_texts = notes.filter(pl.col("patient_id").is_in(held_p.implode()))["text"]
    bos = [tok.bos_id] if tok.bos_id >= 0 else [tok.eos_id]
    # Header prompts are cut to their last common number of tokens (all still end in the
    # label), so that each group of prompts generates in one batch.
    labelled = [bos + tok.encode(p) for p in I.label_prompts(held_texts)]
    groups = [[bos]] + ([[t[-min(map(len, labelled)):] for t in labelled]] if labelled else [])
    per = math.ceil(s.n_samples / len(groups))
    gen = torch.Generator().manual_seed(s.seed)
    log.info("identifier leakage: %d samples of %d tokens (%d header prompts and the empty one); %d training "
             "and %d held-out patients", per * len(groups), s.sample_tokens, len(labelled), n, n)
    samples: list[str] = []
    for group in groups:
        prompts = [group[i % len(group)] for i in range(per)]
        out = lm.generate(model, prompts, s.sample_tokens, temperature=1.0, top_k=s.top_k,
                          generator=gen, batch_size=max(s.batch_size, 64))
        samples.extend(tok.decode(o) for o in out)
    return {"status": None, "n_patients": n, "n_header_prompts": len(labelled),
            **I.leakage_rates(samples, tr_ids, ho_ids)}
