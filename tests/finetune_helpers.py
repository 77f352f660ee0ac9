"""Tiny tokenizer, model and ReMedE-shaped data for the finetune tests."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl

from lang1core.remede.prompts import format_prompt
from lang1core.remede.tasks import SPLITS, TASKS

WORDS = ("patient admitted with chest pain fever cough stable improving home discharged "
         "follow clinic daily aspirin metformin insulin sepsis intubated critical pressors "
         "renal failure lactate rising family goals of care hospice comfort breathing well "
         "ambulating eating tolerating diet").split()


def note(rng: random.Random, label: int, signal: float = 0.95) -> str:
    """A note whose label shows through one keyword with probability `signal`."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(20, 40))]
    key = label if rng.random() < signal else 1 - label
    words.insert(rng.randint(0, len(words)), "deteriorating" if key else "recovering")
    return " ".join(words) + "."


def corpus_lines(n: int = 400, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = [note(rng, rng.randint(0, 1)) for _ in range(n)]
    for t in TASKS.values():  # the prompt text, so questions tokenize sensibly
        lines.append(format_prompt("", t.question, t.options))
    return lines


def train_tokenizer(out_dir: Path, letter_pieces: bool = False) -> Path:
    """A 400-piece BPE with byte fallback; `letter_pieces` adds "▁A".."▁E" as single
    pieces, as large vocabularies (Llama-2's) have them."""
    import sentencepiece as spm

    out_dir.mkdir(parents=True, exist_ok=True)
    text = out_dir / "lines.txt"
    text.write_text("\n".join(corpus_lines()) + "\n")
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(out_dir / "spm"), vocab_size=400, model_type="bpe",
        byte_fallback=True, hard_vocab_limit=False, bos_id=1, eos_id=2, unk_id=0, pad_id=-1,
        minloglevel=2, num_threads=1,
        user_defined_symbols=[f"\u2581{c}" for c in "ABCDE"] if letter_pieces else [],
    )
    return out_dir / "spm.model"


def tiny_model(vocab_size: int, seed: int = 0, **overrides):
    from lang1core.model import Llama, ModelConfig

    cfg = ModelConfig.from_preset(
        "debug", vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2, n_kv_heads=1,
        hidden_dim=64, max_seq_len=512, attention="sdpa", loss="torch", **overrides,
    )
    model = Llama(cfg)
    model.init_weights(seed)
    return model


def remede_dir(root: Path, n: dict | None = None, seed: int = 0) -> Path:
    """R/remede/{task}/{split}.parquet for every task; binary tasks' labels follow the
    keyword, multi-class labels are random; `external` is empty (an empty split)."""
    n = n or {"train": 120, "val": 40, "test": 40, "temporal": 20, "temporal_2024": 20,
              "external": 0}
    rng = random.Random(seed)
    for task, t in TASKS.items():
        for split in SPLITS:
            rows = []
            for i in range(n.get(split, 0)):
                y = rng.randint(0, 1) if len(t.options) == 2 else rng.randrange(len(t.options))
                rows.append({
                    "example_id": f"{task}-{split}-{i}", "patient_id": f"p{i % 50}",
                    "encounter_id": f"e{i}", "site": "site_a", "note_date": None,
                    "text": note(rng, min(y, 1)), "label": y, "options": list(t.options),
                    "question": t.question, "seen_patient": False,
                })
            schema = {"example_id": pl.Utf8, "patient_id": pl.Utf8, "encounter_id": pl.Utf8,
                      "site": pl.Utf8, "note_date": pl.Date, "text": pl.Utf8,
                      "label": pl.Int64, "options": pl.List(pl.Utf8), "question": pl.Utf8,
                      "seen_patient": pl.Boolean}
            out = root / task / f"{split}.parquet"
            out.parent.mkdir(parents=True, exist_ok=True)
            pl.DataFrame(rows, schema=schema).write_parquet(out)
    probe = [{"example_id": f"probe-{i}", "patient_id": f"p{i}", "text": note(rng, i % 2),
              "label": i % 2, "question": f"Question kind {i % 2}?",
              "options": ["a", "b"] if i % 2 else ["a", "b", "c"], "probe": f"k{i % 2}"}
             for i in range(6)]
    for split in ("val", "test"):
        out = root / "probe" / f"{split}.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(probe).write_parquet(out)
    return root
