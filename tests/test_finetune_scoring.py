"""Multiple-choice scoring: hand computation, padding, truncation, k-shot budget, and
prefix sharing (each note and each task's shots run once) against plain scoring."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch

from finetune_helpers import note, tiny_model
from lang1core.finetune.scoring import Encoded, encode_example, score
from lang1core.remede.prompts import format_prompt
from lang1core.remede.tasks import TASKS


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model(tok):
    torch.manual_seed(0)
    return tiny_model(tok.vocab_size).eval()


def test_letter_scores_equal_hand_computation(tok, model):
    t = TASKS["cci"]
    e = encode_example(tok, "patient admitted with fever and cough", t.question, t.options, 3)
    probs, ppl = score(model, [e], tok.pad_id)
    with torch.no_grad():
        logits = model(torch.tensor([e.ids]))[0].double()  # [T, V]
    _, letters = tok.answer_tokens(len(t.options))
    want = torch.softmax(logits[len(e.ids) - 2, letters], -1).numpy()
    np.testing.assert_allclose(probs[0], want, rtol=1e-4, atol=1e-6)
    assert probs[0].sum() == pytest.approx(1.0)
    # Perplexity of question + options + answer letter given the note.
    logp = torch.log_softmax(logits, -1)
    nll = [-float(logp[p - 1, e.ids[p]]) for p in range(e.qa_start, len(e.ids))]
    assert ppl[0] == pytest.approx(math.exp(np.mean(nll)), rel=1e-4)
    # The prompt is format_prompt's, tokenized as note + rest.
    assert e.ids[-1] == letters[3]
    text = tok.decode(e.ids[1:e.qa_start]) + tok.decode(e.ids[e.qa_start:-1])
    assert "Answer:" in text and t.question.split()[-1] in text


def test_batched_scoring_equals_one_by_one(tok, model):
    t = TASKS["readmission"]
    texts = ["short note", "a much longer note " * 12, "medium length note about sepsis"]
    enc = [encode_example(tok, x, t.question, t.options, i % 2) for i, x in enumerate(texts)]
    batched, bppl = score(model, enc, tok.pad_id, batch_size=3)
    for i, e in enumerate(enc):
        single, sppl = score(model, [e], tok.pad_id)
        np.testing.assert_allclose(batched[i], single[0], rtol=1e-4, atol=1e-6)
        assert bppl[i] == pytest.approx(sppl[0], rel=1e-4)


def test_truncation_keeps_question_intact(tok):
    t = TASKS["los"]
    long_note = "patient admitted with chest pain and fever " * 200
    e = encode_example(tok, long_note, t.question, t.options, 1, max_note_tokens=32)
    assert e.qa_start == 1 + 32  # BOS + the first 32 note tokens (right-truncated)
    assert e.ids[1:33] == tok.encode(long_note)[:32]
    suffix = tok.encode(format_prompt("", t.question, t.options))
    assert e.ids[e.qa_start:e.qa_start + len(suffix)] == suffix
    # A context too small for the budget shrinks the note, never the question.
    e2 = encode_example(tok, long_note, t.question, t.options, 1, max_note_tokens=512,
                        max_seq_len=len(e.ids) + 5)
    assert len(e2.ids) <= len(e.ids) + 5
    assert e2.ids[e2.qa_start:e2.qa_start + len(suffix)] == suffix
    with pytest.raises(ValueError, match="context"):
        encode_example(tok, long_note, t.question, t.options, 1, max_seq_len=10)


def test_kshot_shares_the_note_budget(tok):
    t = TASKS["mortality"]
    long_note = "renal failure lactate rising " * 100
    shots = [(long_note, 0), (long_note, 1)]
    e = encode_example(tok, long_note, t.question, t.options, 1, max_note_tokens=60, shots=shots)
    _, letters = tok.answer_tokens(2)
    suffix = tok.encode(format_prompt("", t.question, t.options)) + tok.answer_tokens(2)[0]
    sep = tok.encode("\n\n")
    per = 60 // 3
    assert len(e.ids) == 1 + 3 * per + 3 * len(suffix) + 3 + 2 * len(sep)
    # The shots' answers are in the prompt, in order.
    first = 1 + per + len(suffix)
    assert e.ids[first] == letters[0]


def test_bad_label_is_named(tok):
    t = TASKS["denial"]
    with pytest.raises(ValueError, match="ex7: label 2"):
        encode_example(tok, "note", t.question, t.options, 2, name="ex7")


def several_tasks(tok) -> list:
    """Every task (2 to 5 options) asked of the same notes of different lengths (an empty
    one, short ones, ones cut at the budget), zero-shot, plus k-shot prompts of two tasks."""
    rng = random.Random(3)
    notes = ["", "fever."] + [note(rng, i % 2) for i in range(4)] + ["sepsis " * 80]
    enc = []
    for name, t in TASKS.items():
        enc += [encode_example(tok, x, t.question, t.options, i % len(t.options),
                               max_note_tokens=48) for i, x in enumerate(notes)]
    for name, k in (("mortality", 2), ("cci", 1)):
        t = TASKS[name]
        shots = [(notes[3 + j], j % len(t.options)) for j in range(k)]
        enc += [encode_example(tok, x, t.question, t.options, 1, max_note_tokens=60, shots=shots)
                for x in notes]
    return enc


def test_prefix_shared_scoring_equals_one_by_one(tok, model):
    enc = several_tasks(tok)
    assert len({len(e.letter_ids) for e in enc}) >= 3 and len({e.qa_start for e in enc}) > 4
    order = random.Random(0).sample(range(len(enc)), len(enc))  # tasks interleaved
    shared, sppl = score(model, [enc[i] for i in order], tok.pad_id, batch_size=4)
    for j, i in enumerate(order):
        single, ppl = score(model, [enc[i]], tok.pad_id, share_prefix=False)
        k = len(enc[i].letter_ids)
        np.testing.assert_allclose(shared[j, :k], single[0], rtol=0, atol=1e-5)
        assert np.isnan(shared[j, k:]).all()
        assert sppl[j] == pytest.approx(ppl[0], rel=1e-5)
    # Batched plain scoring agrees too (and is what share_prefix=False runs).
    plain, pppl = score(model, [enc[i] for i in order], tok.pad_id, batch_size=5,
                        share_prefix=False)
    np.testing.assert_allclose(plain, shared, rtol=0, atol=1e-5)
    np.testing.assert_allclose(pppl, sppl, rtol=1e-5)


def test_prefix_sharing_with_lora_adapters(tok, model):
    """Validation during LoRA finetuning scores through the adapters' cache path too."""
    import copy

    from lang1core.finetune.lora import apply_lora

    lora = copy.deepcopy(model)
    apply_lora(lora, targets=("q", "k", "v"), rank=4)
    torch.manual_seed(1)
    for name, p in lora.named_parameters():
        if "lora_b" in name:
            p.data.normal_(0, 0.1)  # nonzero adapters, so they change the cache
    enc = several_tasks(tok)[::3]
    lora.train()  # as mid-finetuning: scoring must switch adapter dropout off
    shared, sppl = score(lora, enc, tok.pad_id, batch_size=4)
    plain, pppl = score(lora, enc, tok.pad_id, batch_size=4, share_prefix=False)
    base, _ = score(model, enc, tok.pad_id, batch_size=4, share_prefix=False)
    np.testing.assert_allclose(shared, plain, rtol=0, atol=1e-5)
    np.testing.assert_allclose(sppl, pppl, rtol=1e-5)
    assert np.nanmax(np.abs(plain - base)) > 1e-3
    assert lora.training  # score restores the mode it found


def test_prefix_sharing_runs_each_note_once(tok, model):
    """The tokens the model runs: each distinct head and note once, then every question."""
    enc = several_tasks(tok)
    seen = []
    hook = model.register_forward_pre_hook(
        lambda mod, args, kw: seen.append(int(kw.get("lengths", torch.tensor(args[0].shape[1])).sum())),
        with_kwargs=True)
    try:
        score(model, enc, tok.pad_id, batch_size=4)
    finally:
        hook.remove()
    heads = {tuple(e.ids[: e.note_start]) for e in enc}
    notes = {(tuple(e.ids[: e.note_start]), tuple(e.ids[e.note_start : e.qa_start])) for e in enc}
    questions = [len(e.ids) - e.qa_start - 1 for e in enc]  # the gold letter is not run
    want = sum(map(len, heads)) + sum(len(n) for _, n in notes) + sum(questions)
    assert sum(seen) == want < sum(len(e.ids) for e in enc)

def test_malformed_encoding_is_named(tok, model):
    bad = Encoded([1, 5, 6], qa_start=3, letter_ids=[7, 8], label=0)
    with pytest.raises(ValueError, match="example 0: .*qa_start 3"):
        score(model, [bad], tok.pad_id)
