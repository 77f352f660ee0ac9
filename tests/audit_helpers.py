"""A tiny hospital for the audit tests: notes with fake header identifiers, a mix with
canaries, a tokenizer, and models trained on it briefly (memorising) or not at all."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import numpy as np
import polars as pl
import torch

SYLL = ("ka", "lo", "mi", "ren", "tas", "vu", "bel", "dor", "fin", "gar", "hul", "jes", "nor", "pim", "sol", "tre")
WORDS = ("fever", "cough", "stable", "pain", "improved", "chest", "oxygen", "lasix", "insulin", "walk", "home",
         "renal", "sodium", "wound", "drain", "bed", "rest", "diet", "follow", "clinic", "labs", "trend")
# A marker that appears in every note's text: no audit output may contain it.
MARKER = "ZQXJMARKER"


def _name(rnd: random.Random) -> str:
    return "".join(rnd.choice(SYLL) for _ in range(3)).capitalize()


def hospital(folder: Path, n_patients: int = 160, seed: int = 0) -> dict[str, Path]:
    """patients.parquet and clean.parquet: one H&P per patient, all of one type, site and year
    (so every held-out note has a matched training note)."""
    rnd = random.Random(seed)
    patients, notes = [], []
    for i in range(n_patients):
        pid = f"P{i:06d}"
        birth = dt.date(1930 + rnd.randrange(70), 1 + rnd.randrange(12), 1 + rnd.randrange(28))
        patients.append((pid, birth))
        body = " ".join(rnd.choice(WORDS) for _ in range(12))
        text = (f"History and Physical\nPatient: {_name(rnd).upper()}, {_name(rnd)}   MRN: "
                f"{rnd.randrange(10**7, 10**8)}   DOB: {birth:%m/%d/%Y}\n{MARKER} {body}")
        notes.append((f"N{i:06d}", pid, "E" + pid, "history_and_physical", dt.datetime(2020, 3, 1), "site_a", text))
    folder.mkdir(parents=True, exist_ok=True)
    out = {"patients": folder / "patients.parquet", "clean": folder / "clean.parquet"}
    pl.DataFrame(patients, schema={"patient_id": pl.String, "birth_date": pl.Date}, orient="row").write_parquet(
        out["patients"])
    pl.DataFrame(notes, schema={"note_id": pl.String, "patient_id": pl.String, "encounter_id": pl.String,
                                "note_type": pl.String, "note_time": pl.Datetime("us"), "site": pl.String,
                                "text": pl.String}, orient="row").write_parquet(out["clean"])
    return out


def mix(folder: Path, clean: Path, canaries: dict, seed: int = 0) -> dict[str, Path]:
    """Half the notes train (with canaries), half are held out; mix_stats.json beside."""
    from lang1core.corpus.io import write_json
    from lang1core.corpus.mix import build_mix

    out = {"train": folder / "train.parquet", "val": folder / "val.parquet", "mix_stats": folder / "mix_stats.json"}
    stats = build_mix({"clinical": 1}, clean, None, out["train"], out["val"], cutoff=None, val_fraction=0.5,
                      min_val_documents=1, seed=seed, canaries=canaries)
    write_json(out["mix_stats"], {"mix": "clinical", **stats})
    return out


def tokenizer(folder: Path, train: Path) -> Path:
    from lang1core.corpus.tokenizer import sample_lines, train_tokenizer

    path = folder / "spm.model"
    train_tokenizer(sample_lines(train, {"clinical": 1}, 10**7, 0), path, vocab_size=400)
    return path


def train_model(out: Path, train: Path, spm_path: Path, steps: int, seed: int = 0) -> Path:
    """A 2-layer Llama trained `steps` AdamW steps on random 64-token windows of the training
    documents (0 steps: a fresh model); saved as a Hugging Face directory."""
    import sentencepiece as spm

    from lang1core.model import Llama, ModelConfig
    from lang1core.model.hf import save_pretrained

    sp = spm.SentencePieceProcessor(model_file=str(spm_path))
    cfg = ModelConfig(vocab_size=sp.get_piece_size(), dim=64, n_layers=2, n_heads=4, n_kv_heads=2,
                      hidden_dim=176, max_seq_len=256, attention="sdpa", loss="torch")
    model = Llama(cfg)
    model.init_weights(seed)
    texts = pl.read_parquet(train)["text"].to_list()
    stream = np.array([t for ids in sp.encode(texts) for t in [sp.bos_id(), *ids, sp.eos_id()]], dtype=np.int64)
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    T = 64
    for _ in range(steps):
        starts = rng.integers(0, len(stream) - T - 1, 16)
        x = torch.from_numpy(np.stack([stream[s:s + T + 1] for s in starts]))
        loss = model.loss(x[:, :-1], x[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    save_pretrained(model.eval(), out, tokenizer_model=spm_path,
                    extra={"model": out.name, "tokens_seen": steps * 16 * T, "train_config": {"seq_len": T}})
    return out


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())
