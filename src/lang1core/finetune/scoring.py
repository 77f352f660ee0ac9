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

Prefix sharing (`score`'s default for our Llama): prompts are split into head (BOS and the
k solved shots, the same for every example of a task), note, and question + options +
answer. Each distinct head runs once, each distinct note once after its head, and every
question that is asked of that note continues from the note's key/value cache: scoring
several tasks' questions about the same notes in one call runs each note once, and a k-shot
task runs its shots once. Within one model this is exact (the probabilities and
perplexities equal the plain path's to float rounding): a cache is only ever continued by
the weights that built it, which holds here because each call scores with one model --
zero-/k-shot scoring of a base model over several tasks, or one (possibly jointly)
finetuned model. Models with per-task LoRA adapters give different prefixes per task and
must be scored task by task, one call per adapter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from lang1core.finetune.tokens import Tokenizer
from lang1core.model import Llama
from lang1core.remede.prompts import format_prompt


@dataclass
class Encoded:
    ids: list[int]  # prompt tokens + the gold answer letter
    qa_start: int  # index of the first question token (after the note)
    letter_ids: list[int]  # token id of each option's letter, option order
    label: int
    # Where the example's own part begins: ids before it (BOS and the solved shots of a
    # k-shot prompt) are the same for every example of a task, so prefix sharing runs them
    # once and continues each note from their cache. 0 (zero-shot) shares no head: a lone
    # BOS is cheaper to run with each note than to cache.
    note_start: int = 0

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
    note_start = len(ids) if shots else 0
    ids += notes[-1][:budget]
    qa_start = len(ids)
    ids += suffix + [letters[int(label)]]
    return Encoded(ids, qa_start, letters, int(label), note_start)


def device_of(model: torch.nn.Module) -> torch.device:
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


def right_pad(seqs: Sequence[Sequence[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids [B, T] and the lengths [B]."""
    T = max(1, max(len(s) for s in seqs))
    x = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        x[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return x.to(device), torch.tensor([len(s) for s in seqs], device=device)


def pad_batch(batch: Sequence[Encoded], pad_id: int, device) -> torch.Tensor:
    """Right-padded [B, T] ids. Causal attention never lets a real token see the padding
    on its right, so the real positions' logits are exact without an attention mask."""
    return right_pad([e.ids for e in batch], pad_id, device)[0]


def letter_logits(model, batch: Sequence[Encoded], pad_id: int) -> torch.Tensor:
    """Full-vocabulary logits [B, V] at each example's answer position (for training)."""
    device = device_of(model)
    x = pad_batch(batch, pad_id, device)
    rows = torch.arange(len(batch), device=device)
    cols = torch.tensor([e.score_pos for e in batch], device=device)
    return gather_logits(model, x, rows, cols)


def score_batch(model, batch: Sequence[Encoded], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(probs [B, K] over the option letters, question-answer perplexity [B]) from one
    forward pass over the whole prompts; K is the most options of any example, and rows
    with fewer options are padded with NaN."""
    device = device_of(model)
    x = pad_batch(batch, pad_id, device)
    rows, cols, targets = [], [], []
    for i, e in enumerate(batch):
        # Targets ids[qa_start..end] are predicted from positions qa_start-1 .. end-1.
        pos = list(range(e.qa_start - 1, len(e.ids) - 1))
        rows += [i] * len(pos)
        cols += pos
        targets += e.ids[e.qa_start :]
    rows_t = torch.tensor(rows, device=device)
    logits = gather_logits(model, x, rows_t, torch.tensor(cols, device=device))  # [N, V]
    return probs_and_ppl(logits, targets, rows, batch)


def probs_and_ppl(logits: torch.Tensor, targets: Sequence[int], owner: Sequence[int],
                  batch: Sequence[Encoded]) -> tuple[np.ndarray, np.ndarray]:
    """Option probabilities and question-answer perplexity from the logits [N, V] of every
    question + options + answer position: row r predicts targets[r] for example owner[r];
    each example's rows are in prompt order, so its last row scores the answer letter."""
    logits = logits.float()
    device = logits.device
    logp = F.log_softmax(logits, dim=-1)
    nll = -logp.gather(1, torch.tensor(targets, device=device)[:, None])[:, 0]  # [N]
    nll_np = nll.cpu().numpy()
    owner_np = np.asarray(owner)
    K = max(len(e.letter_ids) for e in batch)
    probs = np.full((len(batch), K), np.nan)
    ppl = np.zeros(len(batch))
    for i, e in enumerate(batch):
        mine = np.flatnonzero(owner_np == i)
        letter = logits[int(mine[-1]), torch.tensor(e.letter_ids, device=device)]
        probs[i, : len(e.letter_ids)] = torch.softmax(letter, dim=-1).cpu().numpy()
        ppl[i] = math.exp(float(nll_np[mine].mean()))
    return probs, ppl


def score_shared(model: Llama, encoded: Sequence[Encoded], pad_id: int, batch_size: int,
                 on_batch) -> None:
    """Prefix-shared scoring (module docstring): calls on_batch(indices, probs, ppl) per
    batch of examples. Notes are run `batch_size` at a time, shortest first (little
    padding), and the questions asked of them `batch_size` at a time, also by length."""
    device = device_of(model)
    groups: dict[tuple, dict[tuple, list[int]]] = {}  # head -> note -> example indices
    for i, e in enumerate(encoded):
        if not 0 <= e.note_start <= e.qa_start or e.qa_start < 1 or e.qa_start >= len(e.ids):
            raise ValueError(f"example {i}: needs 0 <= note_start <= qa_start, a token before "
                             f"the question and one after it (note_start {e.note_start}, "
                             f"qa_start {e.qa_start}, {len(e.ids)} ids)")
        head, note = tuple(e.ids[: e.note_start]), tuple(e.ids[e.note_start : e.qa_start])
        groups.setdefault(head, {}).setdefault(note, []).append(i)
    for head, notes in groups.items():
        head_cache = head_last = None
        if head:
            h, head_cache = model(torch.tensor([head], device=device), use_cache=True,
                                  return_hidden=True)
            head_last = h[0, -1]
        order = sorted(notes, key=len)
        for s in range(0, len(order), batch_size):
            chunk = order[s : s + batch_size]
            x, n = right_pad(chunk, pad_id, device)
            past = None if head_cache is None else head_cache.select(
                torch.zeros(len(chunk), dtype=torch.long, device=device))
            h, cache = model(x, past=past, lengths=n, use_cache=True, return_hidden=True)
            # The note's last token predicts the question's first (an empty note: the head's).
            last = h[torch.arange(len(chunk), device=device), (n - 1).clamp(min=0)]
            if head_last is not None:
                last = torch.where((n == 0)[:, None], head_last, last)
            asked = [(r, i) for r, key in enumerate(chunk) for i in notes[key]]
            asked.sort(key=lambda m: len(encoded[m[1]].ids) - encoded[m[1]].qa_start)
            for t in range(0, len(asked), batch_size):
                part = asked[t : t + batch_size]
                rows = torch.tensor([r for r, _ in part], device=device)
                idx = [i for _, i in part]
                on_batch(idx, *score_questions(model, [encoded[i] for i in idx],
                                               cache.select(rows), last[rows], pad_id))


def score_questions(model: Llama, batch: Sequence[Encoded], past, last: torch.Tensor,
                    pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """score_batch's outputs for examples whose head and note are in `past` (one cache row
    each); last [B, D]: the hidden state of each note's last token."""
    device = last.device
    # The gold letter is a target only: its own logits are not needed.
    xs, ns = right_pad([e.ids[e.qa_start : -1] for e in batch], pad_id, device)
    hs, _ = model(xs, past=past, lengths=ns, return_hidden=True)
    # Rows in prompt order per example: the note's last position, then the question's.
    valid = torch.arange(xs.shape[1], device=device)[None] < ns[:, None]
    hidden = torch.cat((last, hs[valid]))
    owner = list(range(len(batch))) + [j for j, e in enumerate(batch)
                                       for _ in range(len(e.ids) - e.qa_start - 1)]
    targets = [e.ids[e.qa_start] for e in batch] + [t for e in batch for t in e.ids[e.qa_start + 1 :]]
    return probs_and_ppl(model.output(hidden), targets, owner, batch)

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
    share_prefix: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Score every encoded example; returns (probs [N, K], qa_ppl [N]) in input order.

    The examples may belong to several tasks (K is then the most options of any). With
    share_prefix (our Llama only) common heads and notes run once (module docstring);
    otherwise each whole prompt runs, batched by length."""
    if not encoded:
        return np.zeros((0, 0)), np.zeros(0)
    K = max(len(e.letter_ids) for e in encoded)
    probs = np.full((len(encoded), K), np.nan)
    ppl = np.zeros(len(encoded))
    bar = tqdm(total=len(encoded), disable=not progress, desc="score", unit="ex")

    def keep(idx, p, q):
        probs[idx, : p.shape[1]] = p
        ppl[idx] = q
        bar.update(len(idx))

    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), autocast(device_of(model)):
            if share_prefix and isinstance(model, Llama):
                score_shared(model, encoded, pad_id, batch_size, keep)
            else:
                for idx in batches_by_length(encoded, batch_size):
                    keep(idx, *score_batch(model, [encoded[i] for i in idx], pad_id))
    finally:
        model.train(was_training)
        bar.close()
    return probs, ppl


def autocast(device: torch.device):
    """bfloat16 autocast on CUDA; nothing on CPU (float32 there, for exact tests)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    import contextlib

    return contextlib.nullcontext()
