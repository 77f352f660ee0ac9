"""The tokenizer as finetuning sees it: a SentencePiece model plus the answer-letter ids.

The prompt ends in "Answer:" and the answer is " A", " B", ... (study, Appendix H). With
SentencePiece's dummy prefix, "A" encodes to the single piece "▁A" in most vocabularies
(Llama-2's too). A small vocabulary may lack "▁A" and encode it as "▁" + "A"; then the
shared "▁" becomes part of the prompt and the letters' own pieces are scored.
"""

from __future__ import annotations

from pathlib import Path

import sentencepiece as spm

from lang1core.remede.prompts import LETTERS


class Tokenizer:
    def __init__(self, model_file: str | Path):
        self.path = Path(model_file)
        if not self.path.is_file():
            raise FileNotFoundError(f"tokenizer model not found: {self.path}")
        self.sp = spm.SentencePieceProcessor(model_file=str(self.path))
        self.bos_id = self.sp.bos_id()
        self.eos_id = self.sp.eos_id()
        # pad may be undefined (-1): pad with EOS; padded positions are never read.
        pad = self.sp.pad_id()
        self.pad_id = pad if pad >= 0 else max(self.eos_id, 0)
        self.vocab_size = self.sp.get_piece_size()
        self._answer: dict[int, tuple[list[int], list[int]]] = {}

    def encode(self, text: str) -> list[int]:
        return self.sp.encode(text)

    def decode(self, ids: list[int]) -> str:
        return self.sp.decode(ids)

    def answer_tokens(self, n_options: int) -> tuple[list[int], list[int]]:
        """(prefix ids appended after "Answer:", one token id per option letter)."""
        if n_options not in self._answer:
            prefixes, letters = set(), []
            for letter in LETTERS[:n_options]:
                ids = self.encode(letter)
                if not ids:
                    raise ValueError(f"tokenizer {self.path} encodes letter {letter!r} to nothing")
                prefixes.add(tuple(ids[:-1]))
                letters.append(ids[-1])
            if len(prefixes) != 1 or len(set(letters)) != n_options:
                raise ValueError(
                    f"tokenizer {self.path}: option letters {LETTERS[:n_options]} do not "
                    f"encode to one distinct token each after a shared prefix "
                    f"(prefixes {prefixes}, letters {letters})"
                )
            self._answer[n_options] = (list(prefixes.pop()), letters)
        return self._answer[n_options]
