"""Token shards: flat uint16 (uint32 when the vocabulary needs it) files, EOS after every
document, one series of files per source so the loader can weight sources, and `index.json`.

Layout (docs/architecture.md#corpus-and-shards): `{out}/{split}/{source}_{k:05d}.bin`; a
file closes at the first document boundary past `shard_tokens`. Each split's folder is
published whole (`lang1core.publish`), then index.json; the token files decode to note
text, so they are created owner-only (`modes`). Documents are encoded in
batches by SentencePiece's own thread pool (in input order), so memory is bounded by one batch
and one file buffer, and a rerun with the same inputs writes byte-identical files.
"""

from __future__ import annotations

import logging
import os
from itertools import chain
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from lang1core.private_files import DIR_MODE, FILE_MODE
from lang1core.provenance import file_hash
from lang1core.publish import published_dir, write_json

log = logging.getLogger(__name__)


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 1 << 16 else np.dtype(np.uint32)


def encode_batch(sp, texts: list[str], eos_id: int, dtype, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of `texts`, each followed by EOS, as one flat array; and each document's length."""
    ids = sp.encode(texts, num_threads=threads)
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids)) + 1
    for a in ids:
        a.append(eos_id)
    return np.fromiter(chain.from_iterable(ids), dtype=dtype, count=int(lengths.sum())), lengths


class _SourceWriter:
    def __init__(self, folder: Path, split: str, source: str, dtype, shard_tokens: int, file_mode: int):
        self.folder, self.split, self.source, self.dtype = folder, split, source, dtype
        self.shard_tokens, self.file_mode = shard_tokens, file_mode
        self.files: list[dict] = []
        self._f = None

    def _open(self):
        name = f"{self.source}_{len(self.files):05d}.bin"
        path = self.folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self.file_mode)
        os.fchmod(fd, self.file_mode)  # exactly the mode, whatever the umask
        self._f = os.fdopen(fd, "wb")
        self.files.append({"path": f"{self.split}/{name}", "tokens": 0, "documents": 0})

    def write(self, tokens: np.ndarray, lengths: np.ndarray):
        """Append documents (`lengths` tokens each); a file closes at the first document boundary
        at or past shard_tokens, so file boundaries do not depend on the encoding batch size."""
        ends = np.cumsum(lengths)
        done = 0  # documents written
        while done < lengths.size:
            if self._f is None or self.files[-1]["tokens"] >= self.shard_tokens:
                self.close()
                self._open()
            room = self.shard_tokens - self.files[-1]["tokens"]
            base = ends[done - 1] if done else 0
            # documents up to and including the one that reaches `room`
            upto = min(int(np.searchsorted(ends, base + room, side="left")) + 1, lengths.size)
            chunk = tokens[base:ends[upto - 1]]
            chunk.tofile(self._f)
            self.files[-1]["tokens"] += int(chunk.size)
            self.files[-1]["documents"] += upto - done
            done = upto

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None


def write_shards(split_parquets: dict[str, str | Path], tokenizer_model: str | Path, out_dir: str | Path,
                 weights: dict[str, float], shard_tokens: int = 1 << 28, threads: int = 1,
                 batch_docs: int = 1024, extra: dict | None = None,
                 modes: tuple[int, int] = (FILE_MODE, DIR_MODE)) -> dict:
    """Encode each split's documents into `{out_dir}/{split}/` and write `{out_dir}/index.json`;
    token files are created with `modes` (file, folder; owner-only by default)."""
    import sentencepiece as spm

    out_dir = Path(out_dir)
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_model))
    vocab, eos = sp.get_piece_size(), sp.eos_id()
    if eos < 0:
        raise ValueError(f"{tokenizer_model}: the tokenizer has no EOS piece; shards need one between documents")
    dtype = token_dtype(vocab)
    total_w = float(sum(weights.values()))
    index = {"format": "lang1-shards-v1", "dtype": dtype.name, "vocab_size": vocab, "eos_id": eos,
             "bos_id": sp.bos_id(), "pad_id": sp.pad_id(), "tokenizer_sha256": file_hash(tokenizer_model),
             "document_separator": "eos after every document", "splits": {}}
    file_mode, dir_mode = modes
    for split, path in split_parquets.items():
        writers: dict[str, _SourceWriter] = {}
        with published_dir(out_dir / split, dir_mode) as folder:
            pf = pq.ParquetFile(path)
            for batch in pf.iter_batches(columns=["source", "text"], batch_size=batch_docs):
                sources = batch.column(0).to_pylist()
                texts = batch.column(1).to_pylist()
                # a batch may span two sources (the mix file is grouped by source)
                start = 0
                while start < len(sources):
                    s = sources[start]
                    end = start
                    while end < len(sources) and sources[end] == s:
                        end += 1
                    if s not in writers:
                        writers[s] = _SourceWriter(folder, split, s, dtype, shard_tokens, file_mode)
                    tokens, lengths = encode_batch(sp, texts[start:end], eos, dtype, threads)
                    writers[s].write(tokens, lengths)
                    start = end
            for w in writers.values():
                w.close()
        entry = {"tokens": 0, "documents": 0, "sources": {}}
        for s in sorted(writers):
            files = writers[s].files
            tok = sum(f["tokens"] for f in files)
            docs = sum(f["documents"] for f in files)
            share = weights.get(s, 0.0) / total_w
            entry["sources"][s] = {
                "weight": share, "tokens": tok, "documents": docs, "files": files,
                # token budget at which this source is read exactly once, given its weight
                "tokens_per_epoch_at_weight": (tok / share) if share > 0 else None,
            }
            entry["tokens"] += tok
            entry["documents"] += docs
        index["splits"][split] = entry
        log.info("shards %s: %d documents, %d tokens (%s)", split, entry["documents"], entry["tokens"],
                 {s: v["tokens"] for s, v in entry["sources"].items()})
    if extra:
        index.update(extra)
    write_json(out_dir / "index.json", index)
    return index
