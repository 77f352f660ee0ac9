"""Copy a model directory into a clean Hugging Face Llama directory (export and import).

Both directions are the same operation: read with `load_pretrained` (ours or a transformers
Llama directory), write with `save_pretrained`, carrying the SentencePiece tokenizer and our
metadata along, and optionally check the written directory against `transformers`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from lang1core.model.hf import load_pretrained, read_lang1_json, save_pretrained

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def convert(src: str | Path, out: str | Path, tokenizer: str | Path | None = None, dtype: str | None = None,
            extra: dict[str, Any] | None = None, check: bool = False, card: dict[str, Any] | None = None) -> Path:
    """src model dir -> out HF Llama dir; returns out. `check` compares logits with transformers;
    `card`: sections of the model card (`lang1core.audit.card.write_card` keywords) known now."""
    src, out = Path(src), Path(out)
    model = load_pretrained(src, dtype=DTYPES[dtype] if dtype else None)
    if tokenizer is None and (src / "tokenizer.model").exists():
        tokenizer = src / "tokenizer.model"
    meta = {k: v for k, v in read_lang1_json(src).items() if k != "config"}
    meta.update(extra or {})
    save_pretrained(model, out, tokenizer_model=tokenizer, extra=meta)
    if card:
        from lang1core.audit.card import write_card

        write_card(out, **card)
    log.info("wrote %s (%d parameters, %s)", out, model.num_params(), next(model.parameters()).dtype)
    if check:
        diff = check_with_transformers(out)
        log.info("transformers parity on %s: max |logit difference| = %.3g (float32)", out, diff)
    return out


@torch.no_grad()
def check_with_transformers(model_dir: str | Path, seq_len: int = 32) -> float:
    """Max |logits(ours) - logits(transformers)| on random tokens, both in float32."""
    import transformers

    ours = load_pretrained(model_dir, dtype=torch.float32, attention="eager").eval()
    theirs = transformers.LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
    x = torch.randint(0, ours.config.vocab_size, (2, min(seq_len, ours.config.max_seq_len)),
                      generator=torch.Generator().manual_seed(0))
    return (ours(x) - theirs(x).logits).abs().max().item()
