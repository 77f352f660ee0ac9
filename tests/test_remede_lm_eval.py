"""The lm-evaluation-harness task files with the real `lm-eval` package: it loads our YAML
and utils.py, scores a tiny random Llama built locally (no network), its AUROC equals the one
computed independently from the per-sample log-likelihoods it logged, and a long note's
prompt keeps the note's first tokens, as our scorer does (lm-eval alone cuts from the left)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lm_eval")
pytest.importorskip("accelerate")  # lm-eval's hf backend imports it
transformers = pytest.importorskip("transformers")

from lang1core.remede.lm_eval_files import write_lm_eval  # noqa: E402 - after the optional-dependency skips
from lang1core.remede.prompts import format_prompt  # noqa: E402 - after the optional-dependency skips
from test_remede_build import build  # noqa: E402 - after the optional-dependency skips


def tiny_model(folder: Path) -> Path:
    """A 2-layer random LlamaForCausalLM and a byte-level BPE tokenizer trained on a few words."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(["Question: Answer: A B C D no yes patient CHF Medicine discharge home"] * 20, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="</s>")
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                      bos_token_id=0, eos_token_id=1)
    LlamaForCausalLM(cfg).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def lm_eval_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lmeval")
    # Every training-window stay in `test`, so its mortality split holds both classes.
    manifest, root = build(tmp, cfg={"split_fractions": [0.0, 0.0, 1.0]})
    files = write_lm_eval(root, root / "lm_eval", list(manifest["tasks"]), ["test", "temporal", "temporal_2024"],
                          probe_splits=["val", "test"])
    return root, files


def test_utils_prompt_matches_the_library(lm_eval_dir):
    root, _ = lm_eval_dir
    spec = importlib.util.spec_from_file_location("remede_utils", root / "lm_eval" / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    doc = {"text": "Note.", "question": "Q?", "options": ["no", "yes"], "label": 1}
    assert utils.doc_to_text(doc) == format_prompt("Note.", "Q?", ["no", "yes"])
    assert utils.doc_to_choice(doc) == ["A", "B"]
    # AUROC: ties get half credit; one class gives nan; multi-class is macro one-vs-rest.
    assert utils.auroc([(0, [0.6, 0.4]), (1, [0.4, 0.6]), (1, [0.6, 0.4]), (0, [0.4, 0.6])]) == 0.5
    assert utils.auroc([(0, [0.9, 0.1]), (1, [0.1, 0.9])]) == 1.0
    assert np.isnan(utils.auroc([(0, [0.9, 0.1]), (0, [0.1, 0.9])]))
    three = [(0, [0.8, 0.1, 0.1]), (1, [0.1, 0.8, 0.1]), (2, [0.1, 0.1, 0.8])]
    assert utils.auroc(three) == 1.0


def test_lm_eval_loads_the_tasks_and_scores_a_tiny_local_model(lm_eval_dir, tmp_path):
    import lm_eval
    from lm_eval.tasks import TaskManager

    root, _ = lm_eval_dir
    model = tiny_model(tmp_path / "model")
    model_args = {"pretrained": str(model), "tokenizer": str(model), "dtype": "float32"}
    tm = TaskManager(include_path=str(root / "lm_eval"), metadata=model_args)  # as the CLI builds it
    assert {"remede_mortality_test", "remede_los_temporal", "remede_probe_test", "remede"} <= set(tm.all_tasks)
    out = lm_eval.simple_evaluate(model="hf", model_args=model_args,
                                  tasks=["remede_mortality_test", "remede_los_temporal"], task_manager=tm,
                                  device="cpu", batch_size=8, bootstrap_iters=0, log_samples=True)
    res = out["results"]["remede_mortality_test"]
    samples = out["samples"]["remede_mortality_test"]
    assert res["sample_len"] == len(samples) > 0
    # Recompute AUROC from the logged log-likelihoods of the option letters.
    labels = np.array([s["doc"]["label"] for s in samples])
    ll = np.array([[r[0][0] for r in s["resps"]] for s in samples])
    p = np.exp(ll - ll.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    from sklearn.metrics import roc_auc_score
    assert set(labels) == {0, 1}
    assert res["auroc,none"] == pytest.approx(roc_auc_score(labels, p[:, 1]))
    assert 0.0 <= res["acc,none"] <= 1.0
    los = out["results"]["remede_los_temporal"]
    assert np.isnan(los["auroc,none"]) or 0.0 <= los["auroc,none"] <= 1.0


NOTE_START = "Admitted from clinic with chest pain"


def long_note_data(root: Path, n_docs: int = 3) -> Path:
    """mortality/test.parquet with notes far longer than any budget below (thousands of tokens)."""
    import polars as pl

    notes = [f"{NOTE_START} case {i}. " + " ".join(f"w{j}x{i}" for j in range(600)) for i in range(n_docs)]
    (root / "mortality").mkdir(parents=True)
    pl.DataFrame({"example_id": [str(i) for i in range(n_docs)], "text": notes,
                  "question": ["Will the patient die in hospital?"] * n_docs,
                  "options": [["no", "yes"]] * n_docs, "label": [i % 2 for i in range(n_docs)]},
                 schema_overrides={"options": pl.List(pl.String)}).write_parquet(root / "mortality" / "test.parquet")
    return root


def lm_eval_prompts(data: Path, model: Path, **model_args) -> tuple[list[str], list[str]]:
    """(contexts lm-eval scored, the original notes) for remede_mortality_test."""
    import lm_eval
    import polars as pl
    from lm_eval.tasks import TaskManager

    args = {"pretrained": str(model), "dtype": "float32", **model_args}
    metadata = {**args, **args.pop("metadata", {})}  # the CLI: model_args | --metadata
    tm = TaskManager(include_path=str(data / "lm_eval"), metadata=metadata)
    out = lm_eval.simple_evaluate(model="hf", model_args=args, tasks=["remede_mortality_test"], task_manager=tm,
                                  device="cpu", batch_size=4, bootstrap_iters=0, log_samples=True)
    samples = sorted(out["samples"]["remede_mortality_test"], key=lambda s: int(s["doc"]["example_id"]))
    contexts = []
    for s in samples:
        ctx = {a[0] for a in s["arguments"]}  # one (context, continuation) per option letter
        assert len(ctx) == 1
        contexts.append(ctx.pop())
    notes = pl.read_parquet(data / "mortality" / "test.parquet").sort("example_id")["text"].to_list()
    return contexts, notes


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("model"))


def test_long_note_keeps_its_first_tokens_as_the_scorer_does(tmp_path, model_dir):
    data = long_note_data(tmp_path)
    write_lm_eval(data, data / "lm_eval", ["mortality"], ["test"], max_note_tokens=48)
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    contexts, notes = lm_eval_prompts(data, model_dir)
    for ctx, note in zip(contexts, notes):
        assert len(tok(note)["input_ids"]) > 1024  # longer than the model's context
        kept, question = ctx.split("\nQuestion: ")
        assert ctx.startswith(f"{NOTE_START} case") and note.startswith(kept)
        assert question == "Will the patient die in hospital?\nA. no\nB. yes\nAnswer:"
        assert tok(kept)["input_ids"] == tok(note)["input_ids"][:48]  # the note's first 48 tokens
        assert ctx == format_prompt(kept, "Will the patient die in hospital?", ["no", "yes"])


def test_short_context_shrinks_the_note_not_the_question(tmp_path, model_dir):
    data = long_note_data(tmp_path)
    write_lm_eval(data, data / "lm_eval", ["mortality"], ["test"], max_note_tokens=512)
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    contexts, _ = lm_eval_prompts(data, model_dir, max_length=96)
    for ctx in contexts:
        # lm-eval cuts context + answer letter to max_length + 1 from the left: nothing is cut.
        assert len(tok(ctx + " A", add_special_tokens=False)["input_ids"]) <= 96
        assert ctx.startswith(f"{NOTE_START} case") and ctx.endswith("\nB. yes\nAnswer:")
    # --metadata overrides the written budget
    contexts, _ = lm_eval_prompts(data, model_dir, metadata={"max_note_tokens": 8})
    assert all(len(tok(c.split("\nQuestion: ")[0])["input_ids"]) == 8 for c in contexts)


def test_without_a_tokenizer_the_task_says_how_to_name_one(tmp_path):
    data = long_note_data(tmp_path)
    write_lm_eval(data, data / "lm_eval", ["mortality"], ["test"])
    spec = importlib.util.spec_from_file_location("remede_utils_nt", data / "lm_eval" / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    with pytest.raises(ValueError, match="remede_mortality_test.*tokenizer.*pretrained"):
        utils.load(task="mortality", split="test")
