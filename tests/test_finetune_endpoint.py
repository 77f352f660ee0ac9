"""An OpenAI-compatible endpoint: the client against a real local server of a tiny model."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from finetune_helpers import tiny_model, train_tokenizer
from lang1core.finetune.endpoint import make_server, score_prompt
from lang1core.finetune.scoring import encode_example, score
from lang1core.finetune.tokens import Tokenizer
from lang1core.model.hf import save_pretrained
from lang1core.remede.prompts import format_prompt
from lang1core.remede.tasks import TASKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("srv")
    spm = train_tokenizer(root / "tok", letter_pieces=True)
    tok = Tokenizer(spm)
    torch.manual_seed(0)
    save_pretrained(tiny_model(tok.vocab_size, seed=4), root / "m", tokenizer_model=spm)
    servers = {}
    for name, lp in (("logprobs", True), ("plain", False)):
        srv = make_server(root / "m", logprobs=lp)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers[name] = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    yield servers, root / "m", tok
    # daemon threads end with the test process


def test_endpoint_logprobs_match_local_scoring(server):
    urls, model_dir, tok = server
    from lang1core.finetune.models import load_base

    model, _, _ = load_base(model_dir)
    t = TASKS["cci"]
    note = "patient admitted with renal failure and sepsis"
    probs, method = score_prompt(urls["logprobs"], "m", format_prompt(note, t.question, t.options),
                                 len(t.options), top_logprobs=tok.vocab_size)
    assert method == "logprobs"
    # Same model scored locally (the letters as single tokens after "Answer:").
    enc = encode_example(tok, note, t.question, t.options, 0)
    assert tok.answer_tokens(len(t.options))[0] == []  # " A" is one token: same prompt ids
    local, _ = score(model, [enc], tok.pad_id)
    np.testing.assert_allclose(probs, local[0], rtol=1e-3, atol=1e-4)
    assert probs.sum() == pytest.approx(1.0)


def test_endpoint_without_logprobs_samples(server):
    urls, _, _ = server
    t = TASKS["readmission"]
    probs, method = score_prompt(urls["plain"], "m", format_prompt("note", t.question, t.options),
                                 2, samples=10)
    assert method == "sampling"
    assert probs.shape == (2,) and probs.sum() == pytest.approx(1.0)
    assert set(np.round(probs * 10, 6)) <= {float(i) for i in range(11)} or probs[0] == 0.5
