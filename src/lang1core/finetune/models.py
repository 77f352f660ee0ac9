"""Base models for scoring and finetuning: our checkpoints, imported Hugging Face Llama
directories (both through `lang1core.model.hf.load_pretrained`), or a random init of a
preset (the from-scratch baseline, with the workflow's tokenizer)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from lang1core.finetune.tokens import Tokenizer

log = logging.getLogger(__name__)


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def pretrain_tokens(model_dir: str | Path) -> int | None:
    """tokens_seen recorded in lang1.json by pretraining (None for imported models)."""
    meta = Path(model_dir, "lang1.json")
    if not meta.is_file():
        return None
    info = json.loads(meta.read_text())
    for holder in (info, info.get("extra") or {}):
        if isinstance(holder, dict) and holder.get("tokens_seen") is not None:
            return int(holder["tokens_seen"])
    return None


def load_model_dir(model_dir: str | Path, device: torch.device):
    """(model, tokenizer) from a directory in HF Llama format with tokenizer.model."""
    from lang1core.model.hf import load_pretrained

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"model directory not found: {model_dir}")
    tok = Tokenizer(model_dir / "tokenizer.model")
    model = load_pretrained(model_dir).to(device)
    return model, tok


def scratch_model(tokenizer_file: str | Path, model_config: dict, seed: int, device):
    """A randomly initialised model of the configured preset with the workflow's vocabulary."""
    from lang1core.model import Llama, ModelConfig

    tok = Tokenizer(tokenizer_file)
    cfg = ModelConfig.from_section(model_config or {}, vocab_size=tok.vocab_size)
    model = Llama(cfg)
    if hasattr(model, "init_weights"):
        model.init_weights(seed)
    return model.to(device), tok


def load_base(base: str | Path | None, tokenizer_file=None, model_config=None, seed: int = 0,
              device: str = "auto"):
    """(model, tokenizer, pretrain_tokens): `base` a model directory, or None for scratch."""
    dev = pick_device(device)
    if base is None:
        model, tok = scratch_model(tokenizer_file, model_config, seed, dev)
        return model, tok, 0
    model, tok = load_model_dir(base, dev)
    return model, tok, pretrain_tokens(base)


def max_seq_len(model) -> int | None:
    cfg = getattr(model, "config", None)
    return getattr(cfg, "max_seq_len", None)


def save_model(model, out_dir: str | Path, tok: Tokenizer, extra: dict) -> None:
    from lang1core.model.hf import save_pretrained
    from lang1core.publish import published_dir

    with published_dir(out_dir) as tmp:
        save_pretrained(model, tmp, tokenizer_model=tok.path, extra=extra)
