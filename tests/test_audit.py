"""The memorisation and identifier audit: canaries in the mix, each test, the verdict, the
outputs (numbers only) and the model card."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import audit_helpers as H
import numpy as np
import polars as pl
import pytest

from lang1core.audit import canaries as C
from lang1core.audit.exposure import exposure
from lang1core.audit.settings import AuditSettings

CANARIES = {"per_count": 2, "repetitions": [1, 8, 32]}
SETTINGS = {"n_notes": 64, "max_tokens": 128, "prefix_tokens": 16, "suffix_tokens": 16, "n_candidates": 200,
            "n_samples": 32, "sample_tokens": 32, "n_patients": 80, "n_bootstrap": 100, "seed": 0}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    data = H.hospital(root / "data", n_patients=60)
    m = H.mix(root / "mix", data["clean"], CANARIES)
    spm_path = H.tokenizer(root, m["train"])
    return {"root": root, **data, **m, "spm": spm_path,
            "fresh": H.train_model(root / "fresh", m["train"], spm_path, steps=0),
            "memorised": H.train_model(root / "memorised", m["train"], spm_path, steps=100)}


def audit(world, model: str, **over):
    from lang1core.audit.run import audit_model

    return audit_model(world[model], train_parquet=world["train"], mix_stats=world["mix_stats"],
                       clean_parquet=world["clean"], patients_parquet=world["patients"],
                       settings=AuditSettings.from_dict({**SETTINGS, **over}), reference_dir=world["fresh"],
                       device="cpu", name=model)


@pytest.fixture(scope="module")
def results(world):
    return {m: audit(world, m) for m in ("fresh", "memorised")}


# --- canaries ------------------------------------------------------------------------------

def test_canaries_are_seeded_and_candidates_hold_the_secret_once():
    a, b = C.make_canaries(5, 2, [1, 4]), C.make_canaries(5, 2, [1, 4])
    assert a == b and a != C.make_canaries(6, 2, [1, 4])
    assert len({c.secret for c in a}) == 4
    cands = C.candidate_secrets(a[0], 50, 5)
    assert cands[0] == a[0].secret and len(set(cands)) == 50
    assert all(len(s) == C.SECRET_DIGITS and s.isdigit() for s in cands)


def test_mix_holds_each_canary_as_often_as_asked_in_training_only(world):
    train, val = pl.read_parquet(world["train"]), pl.read_parquet(world["val"])
    stats = H.read_json(world["mix_stats"])
    inserted = C.from_manifest(stats)
    assert sorted({c.repetitions for c in inserted}) == CANARIES["repetitions"]
    for c in inserted:
        assert (train["text"] == c.text).sum() == c.repetitions
    assert not val["doc_id"].str.starts_with(C.CANARY_PREFIX).any()
    assert stats["leak_check"] == {k: 0 for k in stats["leak_check"]}
    # spread through the notes, not one block
    pos = np.flatnonzero(train["doc_id"].str.starts_with(C.CANARY_PREFIX).to_numpy())
    assert pos.max() - pos.min() > len(pos)


def test_tokenizer_sample_leaves_canaries_out(world):
    from lang1core.corpus.tokenizer import sample_lines

    lines = sample_lines(world["train"], {"clinical": 1}, 10**7, 0)
    secrets = {c.secret for c in C.from_manifest(H.read_json(world["mix_stats"]))}
    assert lines and not any(s in line for s in secrets for line in lines)


def test_canary_settings_follow_the_source():
    from lang1core.corpus.mix import canary_settings

    corpus = {"canaries": {"insert": "auto", "per_count": 2, "repetitions": [1, 4]}}
    assert canary_settings(corpus, "synthetic") == {"per_count": 2, "repetitions": [1, 4]}
    assert canary_settings(corpus, "export") is None
    corpus["canaries"]["insert"] = True
    assert canary_settings(corpus, "export") is not None


def test_exposure_is_log2_candidates_over_rank():
    assert exposure(np.array([0.0, -1.0, -2.0, -3.0])) == 2.0  # rank 1 of 4
    assert math.isclose(exposure(np.array([-2.0, -1.0, -3.0, -4.0])), 1.0)  # rank 2 of 4
    assert math.isclose(exposure(np.array([-2.5, -1.0, -2.0, -3.0])), 2 - math.log2(3))  # rank 3
    assert exposure(np.array([-1.0, -1.0, -1.0, -1.0])) == 0.0  # ties count against the secret


# --- the audit -----------------------------------------------------------------------------

def test_memorising_model_fails_and_fresh_model_passes(results):
    fresh, mem = results["fresh"], results["memorised"]
    assert fresh["verdict"]["pass"], fresh["verdict"]
    assert not mem["verdict"]["pass"]
    failed = " ".join(mem["verdict"]["failed"])
    assert "canary exposure" in failed and "membership" in failed


def test_exposure_grows_with_repetitions(results):
    mem = {r["repetitions"]: r["mean_exposure"] for r in results["memorised"]["canaries"]["by_repetitions"]}
    fresh = {r["repetitions"]: r["mean_exposure"] for r in results["fresh"]["canaries"]["by_repetitions"]}
    assert mem[32] > mem[1] and mem[32] >= mem[8]
    assert mem[32] > max(fresh.values())
    assert mem[32] > AuditSettings().thresholds["max_exposure"]


def test_extraction_finds_text_seen_often_and_not_text_never_seen(world):
    """Greedy continuations of the canaries inserted 32 times come back verbatim; those of
    canaries the model never saw (another seed) do not."""
    import torch

    from lang1core.audit.extraction import extraction
    from lang1core.finetune.models import load_model_dir

    model, tok = load_model_dir(world["memorised"], torch.device("cpu"))
    model.eval()
    seen = [c for c in C.from_manifest(H.read_json(world["mix_stats"])) if c.repetitions == 32]
    unseen = C.make_canaries(12345, 4, [1])
    toks = [[tok.bos_id, *tok.encode(c.text)] for c in seen], [[tok.bos_id, *tok.encode(c.text)] for c in unseen]
    r = extraction(model, *toks, prefix=20, suffix=10, near=0.9)
    assert r["train"]["exact_rate"] > r["held_out"]["exact_rate"]
    assert r["exact_rate_excess"] > AuditSettings().thresholds["max_extraction_excess"]


def test_identifier_leakage_counts_training_identifiers_against_held_out_ones():
    from lang1core.audit import identifiers as I

    patients = pl.DataFrame({"patient_id": ["P1", "P2", "P3"]}).with_columns(
        pl.Series("birth_date", ["1950-01-02", "1960-03-04", "1950-01-02"]).str.to_date())
    notes = pl.DataFrame({"patient_id": ["P1", "P2", "P3"], "text": [
        "H&P\nPatient: SMITH, Ann   MRN: 12345678   DOB: 01/02/1950\nbody",
        "H&P\nPatient: JONES, Bob   MRN: 87654321   DOB: 03/04/1960\nbody",
        "H&P\nPatient: SMITH, Ann   MRN: 55555555   DOB: 01/02/1950\nbody"]})
    train, held = I.disjoint(I.identifiers(["P1", "P2"], patients, notes), I.identifiers(["P3"], patients, notes))
    # a name and a birth date both groups share identify no one
    assert "SMITH, Ann" not in train["name"] and "01/02/1950" not in train["dob"]
    assert "JONES, Bob" in train["name"] and "12345678" in train["mrn"] and "1960-03-04" in train["dob"]
    samples = ["Patient: JONES, Bob MRN: 0", "seen 03/04/1960 for", "MRN 55555555", "SMITH, Ann again", "nothing"]
    r = I.leakage_rates(samples, train, held)
    assert r["train"]["name"] == r["train"]["dob"] == 0.2 and r["train"]["any"] == 0.4
    assert r["held_out"]["mrn"] == 0.2 and r["held_out"]["name"] == 0.0
    assert math.isclose(r["excess"]["any"], 0.2)
    assert I.label_prompts([notes["text"][0], notes["text"][1], "no label"]) == ["H&P\nPatient:"]


def test_cached_generation_and_scoring_match_full_forward_passes(world):
    import torch

    from lang1core.audit import lm
    from lang1core.finetune.models import load_model_dir

    model, _ = load_model_dir(world["memorised"], torch.device("cpu"))
    model.eval()
    prompt = [1, 5, 9, 13, 2, 7]
    greedy = lm.generate(model, [prompt, prompt], 6)
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(6):
            ids.append(int(model(torch.tensor([ids]))[0, -1].argmax()))
    assert greedy == [ids[len(prompt):]] * 2
    conts = [[3, 4], [8, 8, 8], [11]]
    got = lm.continuation_logprobs(model, prompt, conts)
    with torch.no_grad():
        for c, lp in zip(conts, got):
            full = torch.log_softmax(model(torch.tensor([prompt + c]))[0].float(), -1)
            want = sum(full[len(prompt) - 1 + j, t] for j, t in enumerate(c))
            assert math.isclose(lp, float(want), rel_tol=1e-4, abs_tol=1e-4)
    losses = lm.mean_losses(model, [prompt, prompt[:3]])
    with torch.no_grad():
        ref = model.loss(torch.tensor([prompt[:-1]]), torch.tensor([prompt[1:]]))
    assert math.isclose(losses[0], float(ref), rel_tol=1e-4)


def test_membership_calibrated_by_the_reference(results):
    mem = results["memorised"]["membership"]
    assert mem["loss"]["auroc"] > 0.6 and mem["calibrated"]["auroc"] > 0.6
    assert 0.5 < mem["loss"]["ci_low"] <= mem["loss"]["auroc"] <= mem["loss"]["ci_high"]
    # the fresh model cannot tell members: whatever its AUROC, its interval holds chance
    fresh = results["fresh"]["membership"]["loss"]
    assert fresh["ci_low"] <= 0.5 <= fresh["ci_high"]


def test_a_mix_without_clinical_notes_is_not_applicable(world, tmp_path):
    stats = H.read_json(world["mix_stats"])
    general = tmp_path / "train.parquet"
    pl.read_parquet(world["train"]).with_columns(pl.lit("general").alias("source")).write_parquet(general)
    (tmp_path / "mix_stats.json").write_text(json.dumps({**stats, "canaries": None}))
    from lang1core.audit.run import audit_model

    r = audit_model(world["fresh"], train_parquet=general, mix_stats=tmp_path / "mix_stats.json",
                    clean_parquet=world["clean"], patients_parquet=world["patients"],
                    settings=AuditSettings.from_dict(SETTINGS), device="cpu")
    checks = {c["check"]: c for c in r["verdict"]["checks"]}
    assert all(c["pass"] is None and c["status"].startswith("not applicable") for c in checks.values())
    assert r["verdict"]["pass"]


def test_settings_reject_unknown_keys():
    with pytest.raises(ValueError, match="unknown key"):
        AuditSettings.from_dict({"n_note": 3})
    with pytest.raises(ValueError, match="unknown threshold"):
        AuditSettings.from_dict({"thresholds": {"max_auroc": 0.7}})


# --- outputs -------------------------------------------------------------------------------

def test_cli_outputs_hold_no_note_text_or_identifier(world, tmp_path):
    """`lang1 audit` on the memorising model: exit 1 (fail), JSON, figure and card hold numbers
    only: no marker string from the notes, no name, MRN or secret."""
    import yaml

    results = tmp_path / "results"
    (results / "corpus").mkdir(parents=True)
    (results / "validated").mkdir()
    (results / "corpus" / "clean.parquet").symlink_to(world["clean"])
    (results / "validated" / "patients.parquet").symlink_to(world["patients"])
    cfg = tmp_path / "c.yaml"  # an overlay on config.yaml, as the workflow reads it
    cfg.write_text(yaml.safe_dump({"seed": 0, "audit": {k: v for k, v in SETTINGS.items() if k != "seed"}}))
    repo_config = Path(__file__).resolve().parents[1] / "config.yaml"
    out = tmp_path / "a.json"
    proc = subprocess.run([sys.executable, "-m", "lang1core.cli", "audit", str(world["memorised"]),
                           "--mix", str(world["train"].parent),
                           "--results", str(results), "--reference", str(world["fresh"]),
                           "--config", str(repo_config), str(cfg),
                           "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert out.with_suffix(".png").stat().st_size > 0

    card_dir = tmp_path / "share"
    proc = subprocess.run([sys.executable, "-m", "lang1core.cli", "export-hf", str(world["memorised"]),
                           str(card_dir), "--audit", str(out), "--mix-stats", str(world["mix_stats"])],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    card = (card_dir / "README.md").read_text()
    assert card.startswith("---\n") and "## Memorisation and identifier audit" in card and "FAIL" in card

    notes = pl.read_parquet(world["clean"])
    secrets = [c.secret for c in C.from_manifest(H.read_json(world["mix_stats"]))]
    forbidden = [H.MARKER, *secrets]
    for text in notes["text"]:
        header = text.split("\n")[1]
        forbidden += [header.split("MRN: ")[1].split()[0], header.split("Patient: ")[1].split("   ")[0]]
    forbidden += notes["patient_id"].to_list()
    for name, blob in (("audit JSON", out.read_text()), ("model card", card), ("log", proc.stderr)):
        leaked = [s for s in forbidden if s in blob]
        assert not leaked, f"{name} holds {leaked[:3]}"


def test_every_saved_model_has_a_card_that_says_what_it_lacks(world):
    card = (world["fresh"] / "README.md").read_text()
    front = card.split("---\n")[1]
    import yaml

    assert yaml.safe_load(front)["library_name"] == "transformers"
    assert "Not available at export time" in card and "Not run at export time" in card
