"""Multiple-choice scoring: prompt -> probability per option and question-answer perplexity.

Prompt (study, Appendix H; `lang1core.remede.format_prompt`): the note right-truncated to a
token budget (512 by default: its first tokens are kept), then "\\nQuestion: ...", the
lettered options and "Answer:". The note is tokenized on its own so the budget is exact;
the question and options are never truncated. The option probabilities are the softmax over
the logits of the option letters at the last prompt position.

k-shot: k solved training examples (prompt + answer letter + blank line) come first; the
note budget is shared, each of the k + 1 notes gets budget // (k + 1) tokens, and it shrinks
further when the whole prompt would overflow the model's context.

One forward pass per example serves both outputs: the input is the prompt followed by the
gold letter, so the logits at the position before the letter give the option scores and the
positions over question + options + answer give the perplexity (the study's Fig. 4c).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lang1core.finetune.tokens import Tokenizer
from lang1core.remede.prompts import format_prompt


@dataclass
class Encoded:
    ids: list[int]  # prompt tokens + the gold answer letter
    qa_start: int  # index of the first question token (after the note)
    letter_ids: list[int]  # token id of each option's letter, option order
    label: int

    @property
    def score_pos(self) -> int:
        """Position whose next-token logits score the answer letter."""
        return len(self.ids) - 2


def _suffix(tok: Tokenizer, question: str, options: Sequence[str]) -> list[int]:
    # format_prompt with an empty note is exactly what follows the note ("\nQuestion: ...").
    prefix, _ = tok.answer_tokens(len(options))
    return tok.encode(format_prompt("", question, options)) + prefix


def encode_example(
    tok: Tokenizer,
    text: str,
    question: str,
    options: Sequence[str],
    label: int,
    max_note_tokens: int = 512,
    shots: Sequence[tuple[str, int]] = (),
    max_seq_len: int | None = None,
    name: str = "example",
) -> Encoded:
    """Token ids of one (k-shot) prompt followed by the gold letter.

    `shots` are (note text, label) pairs of the same task, prepended as solved examples.
    """
    if not 0 <= int(label) < len(options):
        raise ValueError(f"{name}: label {label} outside options 0..{len(options) - 1}")
    _, letters = tok.answer_tokens(len(options))
    suffix = _suffix(tok, question, options)
    newline = tok.encode("\n\n")
    notes = [tok.encode(t) for t, _ in shots] + [tok.encode(text)]
    budget = max_note_tokens // len(notes)
    # Fixed cost: BOS, per shot suffix + letter + separator, then suffix + gold letter.
    fixed = 1 + len(shots) * (len(suffix) + 1 + len(newline)) + len(suffix) + 1
    if max_seq_len is not None and fixed + budget * len(notes) > max_seq_len:
        budget = (max_seq_len - fixed) // len(notes)
        if budget < 0:
            raise ValueError(
                f"{name}: question and options alone take {fixed} tokens, more than the "
                f"model's context of {max_seq_len}"
            )
    ids = [tok.bos_id] if tok.bos_id >= 0 else []
    for (_, shot_label), note in zip(shots, notes[:-1]):
        ids += note[:budget] + suffix + [letters[int(shot_label)]] + newline
    ids += notes[-1][:budget]
    qa_start = len(ids)
    ids += suffix + [letters[int(label)]]
    return Encoded(ids, qa_start, letters, int(label))


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def gather_logits(model, input_ids: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor):
    """Logits [N, V] at positions (rows[i], cols[i]) of input_ids [B, T].

    Uses model.hidden + model.output when the model has them, so the vocabulary projection
    runs only on the N positions needed (not B * T).
    """
    if hasattr(model, "hidden") and hasattr(model, "output"):
        h = model.hidden(input_ids)  # [B, T, D]
        return model.output(h[rows, cols])  # [N, V]
    return model(input_ids)[rows, cols]  # [B, T, V] -> [N, V]


def pad_batch(batch: Sequence[Encoded], pad_id: int, device) -> torch.Tensor:
    """Right-padded [B, T] ids. Causal attention never lets a real token see the padding
    on its right, so the real positions' logits are exact without an attention mask."""
    T = max(len(e.ids) for e in batch)
    x = torch.full((len(batch), T), pad_id, dtype=torch.long)
    for i, e in enumerate(batch):
        x[i, : len(e.ids)] = torch.tensor(e.ids, dtype=torch.long)
    return x.to(device)


def letter_logits(model, batch: Sequence[Encoded], pad_id: int) -> torch.Tensor:
    """Full-vocabulary logits [B, V] at each example's answer position (for training)."""
    device = _device_of(model)
    x = pad_batch(batch, pad_id, device)
    rows = torch.arange(len(batch), device=device)
    cols = torch.tensor([e.score_pos for e in batch], device=device)
    return gather_logits(model, x, rows, cols)


@torch.no_grad()
def score_batch(model, batch: Sequence[Encoded], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(probs [B, K] over the option letters, question-answer perplexity [B]); K is the most
    options of any example, and rows with fewer options are padded with NaN."""
    device = _device_of(model)
    x = pad_batch(batch, pad_id, device)
    rows, cols, targets, seg = [], [], [], []
    for i, e in enumerate(batch):
        # Targets ids[qa_start..end] are predicted from positions qa_start-1 .. end-1.
        pos = list(range(e.qa_start - 1, len(e.ids) - 1))
        rows += [i] * len(pos)
        cols += pos
        targets += e.ids[e.qa_start :]
        seg.append(len(pos))
    rows_t = torch.tensor(rows, device=device)
    logits = gather_logits(
        model, x, rows_t, torch.tensor(cols, device=device)
    ).float()  # [N, V]
    logp = F.log_softmax(logits, dim=-1)
    nll = -logp.gather(1, torch.tensor(targets, device=device)[:, None])[:, 0]  # [N]
    ends = np.cumsum(seg)
    K = max(len(e.letter_ids) for e in batch)
    probs = np.full((len(batch), K), np.nan)
    ppl = np.zeros(len(batch))
    nll_np = nll.cpu().numpy()
    for i, e in enumerate(batch):
        last = ends[i] - 1  # the answer position's row
        letter = logits[last, torch.tensor(e.letter_ids, device=device)]
        probs[i, : len(e.letter_ids)] = torch.softmax(letter, dim=-1).cpu().numpy()
        ppl[i] = math.exp(float(nll_np[ends[i] - seg[i] : ends[i]].mean()))
    return probs, ppl


def batches_by_length(encoded: Sequence[Encoded], batch_size: int):
    """Index batches of similar length (less padding); yields lists of indices."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].ids))
    for s in range(0, len(order), batch_size):
        yield order[s : s + batch_size]


def score(
    model,
    encoded: Sequence[Encoded],
    pad_id: int,
    batch_size: int = 16,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Score every encoded example; returns (probs [N, K], qa_ppl [N]) in input order."""
    if not encoded:
        return np.zeros((0, 0)), np.zeros(0)
    K = max(len(e.letter_ids) for e in encoded)
    probs = np.full((len(encoded), K), np.nan)
    ppl = np.zeros(len(encoded))
    was_training = model.training
    model.eval()
    try:
        from tqdm import tqdm

        idx_batches = list(batches_by_length(encoded, batch_size))
        for idx in tqdm(idx_batches, disable=not progress, desc="score"):
            with autocast(_device_of(model)):
                p, q = score_batch(model, [encoded[i] for i in idx], pad_id)
            probs[idx, : p.shape[1]] = p
            ppl[idx] = q
    finally:
        model.train(was_training)
    return probs, ppl


def autocast(device: torch.device):
    """bfloat16 autocast on CUDA; nothing on CPU (float32 there, for exact tests)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    import contextlib

    return contextlib.nullcontext()
