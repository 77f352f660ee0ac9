"""Tokenizer: SentencePiece BPE trained on a bounded sample of a mix, or an existing model.

The study's setting (docs/study.md#tokenizer): BPE, byte fallback (no unknown tokens: any byte is
representable), digits split one by one (as Llama), identity normalisation so that decoding
gives back the cleaned text. The training sample is drawn per source in proportion to the mix
weights, by a hash of the document id (deterministic, streaming), and capped at `sample_chars`
so training time does not grow with the corpus.
"""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import polars as pl

from lang1core.audit.canaries import CANARY_PREFIX
from lang1core.provenance import file_hash
from lang1core.publish import published_file, write_bytes

log = logging.getLogger(__name__)

# spm skips longer sentences; lines are cut to this many characters (ASCII, so bytes).
MAX_SENTENCE = 4096


def sample_lines(train_parquet: str | Path, weights: dict[str, float], sample_chars: int, seed: int) -> list[str]:
    """Lines of a deterministic document sample: about sample_chars * weight share per source."""
    lf = pl.scan_parquet(train_parquet)
    chars = dict(lf.group_by("source").agg(pl.col("text").str.len_bytes().sum()).collect().iter_rows())
    total_w = sum(weights.values())
    frames = []
    for s in sorted(weights):
        if not chars.get(s):
            continue
        rate = min(1.0, sample_chars * weights[s] / total_w / chars[s])
        keep = (pl.col("doc_id").hash(seed=seed) % 1_000_000) < int(rate * 1_000_000) if rate < 1 else pl.lit(True)
        # canaries are left out: a tokenizer that learnt their pieces would help the model to them
        frames.append(lf.filter((pl.col("source") == s) & keep & ~pl.col("doc_id").str.starts_with(CANARY_PREFIX))
                      .select("text"))
    texts = pl.concat(frames).collect(engine="streaming")["text"]
    lines = (texts.str.split("\n").explode().str.strip_chars())
    lines = lines.filter(lines.str.len_bytes() > 0)
    out = []
    for line in lines.to_list():
        out.extend(line[i:i + MAX_SENTENCE] for i in range(0, len(line), MAX_SENTENCE))
    return out


def train_tokenizer(lines: list[str], model_path: str | Path, vocab_size: int, threads: int = 1,
                    seed: int = 0) -> dict:
    """Train SentencePiece BPE on `lines`; write `model_path` (+ .vocab); return a summary."""
    import sentencepiece as spm

    model_path = Path(model_path)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    if not lines:
        raise ValueError("tokenizer sample is empty: the mix holds no text")
    # Written through model_writer (not model_prefix) so the file does not record where it was
    # trained: the same sample, settings and thread count give byte-identical models anywhere.
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=buf, model_type="bpe", vocab_size=vocab_size,
        byte_fallback=True, character_coverage=1.0, split_digits=True, normalization_rule_name="identity",
        remove_extra_whitespaces=False, add_dummy_prefix=True, allow_whitespace_only_pieces=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=max(1, threads),
        # the sample is already bounded and drawn by us, so spm uses all of it, in order
        input_sentence_size=0, shuffle_input_sentence=False, max_sentence_length=MAX_SENTENCE * 4,
        # a tiny corpus may not support the requested size; the real size is recorded
        hard_vocab_limit=False, minloglevel=2,
    )
    write_bytes(model_path, buf.getvalue())
    return describe(model_path) | {"trained_on_lines": len(lines), "trained_on_chars": sum(map(len, lines)),
                                   "requested_vocab_size": vocab_size}


def use_existing(src: str | Path, model_path: str | Path) -> dict:
    """Copy an existing SentencePiece model (e.g. Llama-2's tokenizer.model) into place."""
    src = Path(src)
    if not src.is_file():
        raise FileNotFoundError(f"tokenizer.model: {src} does not exist")
    with published_file(model_path) as tmp:
        shutil.copyfile(src, tmp)
    return describe(model_path) | {"copied_from": str(src)}


def describe(model_path: str | Path) -> dict:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    return {"vocab_size": sp.get_piece_size(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(),
            "pad_id": sp.pad_id(), "unk_id": sp.unk_id(), "sha256": file_hash(model_path)}
