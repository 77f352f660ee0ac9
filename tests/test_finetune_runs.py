"""The workflow's runs on a tiny saved model: contracted prediction files and run.json,
zero-shot / k-shot / finetune / efficiency / scratch / TF-IDF, and `lang1 score`."""

from __future__ import annotations

import json

import polars as pl
import pytest

from finetune_helpers import remede_dir, tiny_model, train_tokenizer
from lang1core.contracts import RUN_JSON_KEYS
from lang1core.finetune.loop import LoopConfig
from lang1core.finetune.runs import (ScoreSettings, TrainSettings, run_finetune, run_prompted,
                                     run_tfidf)
from lang1core.model.hf import save_pretrained
from lang1core.remede.tasks import SPLITS, TASKS

RUN_KEYS = {*RUN_JSON_KEYS, "provenance"}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("ft")
    spm = train_tokenizer(root / "tok")
    from lang1core.finetune.tokens import Tokenizer

    model = tiny_model(Tokenizer(spm).vocab_size)
    save_pretrained(model, root / "base", tokenizer_model=spm, extra={"tokens_seen": 1234})
    n = {"train": 24, "val": 12, "test": 10, "temporal": 6, "temporal_2024": 6, "external": 0}
    return {"root": root, "spm": spm, "base": root / "base", "remede": remede_dir(root / "remede", n)}


def check_predictions(out, tasks, data_root, cap=None):
    for task in tasks:
        K = len(TASKS[task].options)
        for split in SPLITS:
            df = pl.read_parquet(out / task / f"{split}.parquet")
            src = pl.read_parquet(data_root / task / f"{split}.parquet")
            assert df.columns == ["example_id", "patient_id", "label"] + [
                f"prob_{k}" for k in range(K)] + ["qa_ppl"]
            assert df.height == (min(src.height, cap) if cap else src.height)
            assert df["example_id"].dtype == pl.Utf8 and df["label"].dtype == pl.Int64
            if df.height:
                sums = df.select(pl.sum_horizontal([f"prob_{k}" for k in range(K)]))
                assert sums.to_series().to_numpy() == pytest.approx(1.0)
                lab = dict(zip(src["example_id"], src["label"]))
                assert all(lab[e] == y for e, y in zip(df["example_id"], df["label"]))


def test_zeroshot_and_kshot(world, tmp_path):
    for recipe, k in (("zeroshot", 0), ("kshot", 2)):
        out = tmp_path / recipe
        run_prompted(model_name="tiny", recipe=recipe, kind=recipe, base=world["base"],
                     remede_dir=world["remede"], tasks=list(TASKS), splits=list(SPLITS),
                     out_dir=out, settings=ScoreSettings(max_note_tokens=32, k_shot=k,
                                                         max_examples=6),
                     config={"x": 1}, seed=3)
        check_predictions(out, TASKS, world["remede"], cap=6)
        run = json.loads((out / "run.json").read_text())
        assert RUN_KEYS <= set(run) and run["k"] == k and run["pretrain_tokens"] == 1234
        assert pl.read_parquet(out / "los" / "test.parquet")["qa_ppl"].is_not_null().all()


def test_full_splits_are_scored_whole_whatever_the_cap(world, tmp_path):
    out = tmp_path / "z"
    run_prompted(model_name="tiny", recipe="zeroshot", kind="zeroshot", base=world["base"],
                 remede_dir=world["remede"], tasks=["los"], splits=["val", "test"], out_dir=out,
                 settings=ScoreSettings(max_note_tokens=32, max_examples=3, full_splits=("test",)),
                 config={}, seed=3)
    run_tfidf(task="los", remede_dir=world["remede"], splits=["val", "test"], out_dir=tmp_path / "t",
              config={}, seed=0, max_examples=3, full_splits=("test",))
    for root in (out, tmp_path / "t"):
        assert pl.read_parquet(root / "los" / "val.parquet").height == 3
        assert pl.read_parquet(root / "los" / "test.parquet").height == 10  # every test example
    # A single-task finetune scores its own task in full, the others (transfer) capped.
    ft = tmp_path / "ft"
    run_finetune(model_name="tiny", recipe="los", kind="finetune", base=world["base"],
                 remede_dir=world["remede"], train_tasks=["los"], predict_tasks_=["los", "cci"],
                 splits=["test"], out_dir=ft, work_dir=tmp_path / "w", train=small_train(),
                 score_settings=ScoreSettings(max_note_tokens=32, max_examples=3, full_splits=("test",)),
                 config={}, seed=0)
    assert pl.read_parquet(ft / "los" / "test.parquet").height == 10
    assert pl.read_parquet(ft / "cci" / "test.parquet").height == 3


def test_zeroshot_answers_the_probe(world, tmp_path):
    out = tmp_path / "z"
    run_prompted(model_name="tiny", recipe="zeroshot", kind="zeroshot", base=world["base"],
                 remede_dir=world["remede"], tasks=["los"], splits=["test"], out_dir=out,
                 settings=ScoreSettings(max_note_tokens=32), config={}, seed=0,
                 probe_splits=["val", "test"])
    df = pl.read_parquet(out / "probe" / "test.parquet")
    assert df.columns == ["example_id", "patient_id", "label", "prob_0", "prob_1", "prob_2",
                          "qa_ppl"]
    three = df.filter(pl.col("example_id").is_in(["probe-0", "probe-2", "probe-4"]))
    two = df.filter(pl.col("example_id").is_in(["probe-1", "probe-3", "probe-5"]))
    assert three["prob_2"].is_not_null().all() and two["prob_2"].is_null().all()
    assert (two["prob_0"] + two["prob_1"]).to_numpy() == pytest.approx(1.0)


def small_train(patience=4, **kw):
    return TrainSettings(loop=LoopConfig(max_steps=3, batch_size=4, eval_every=2,
                                         patience=patience),
                         search_trials=1, search_steps=2, max_eval_examples=8, **kw)


def test_single_task_finetune_predicts_all_tasks(world, tmp_path):
    out, work = tmp_path / "pred", tmp_path / "work"
    run_finetune(model_name="tiny", recipe="mortality", kind="finetune", base=world["base"],
                 remede_dir=world["remede"], train_tasks=["mortality"],
                 predict_tasks_=list(TASKS), splits=list(SPLITS), out_dir=out, work_dir=work,
                 train=small_train(), score_settings=ScoreSettings(max_note_tokens=32, max_examples=6),
                 config={}, seed=1)
    check_predictions(out, TASKS, world["remede"], cap=6)
    run = json.loads((out / "run.json").read_text())
    assert run["train_task"] == "mortality" and run["n_train"] == 24
    assert 1e-6 <= run["lr"] <= 1e-3 and run["finetune_tokens"] > 0
    assert (work / "search.csv").is_file() and (work / "search.db").is_file()
    assert (work / "curve.csv").is_file() and (work / "checkpoint" / "model.safetensors").is_file()


def test_efficiency_scratch_lora_and_joint(world, tmp_path):
    # A data-efficiency run from a random init with LoRA, and a joint run.
    out = tmp_path / "eff"
    run_finetune(model_name="scratch", recipe="los-n10", kind="efficiency", base=None,
                 tokenizer_file=world["spm"],
                 model_config={"preset": "debug", "overrides": {
                     "dim": 32, "n_layers": 1, "n_heads": 2, "n_kv_heads": 1, "hidden_dim": 64}},
                 remede_dir=world["remede"], train_tasks=["los"], predict_tasks_=["los"],
                 splits=list(SPLITS), out_dir=out, work_dir=tmp_path / "w1", n_train=10,
                 train=small_train(lr=1e-3, lora=True), config={},
                 score_settings=ScoreSettings(max_note_tokens=32), seed=1)
    check_predictions(out, ["los"], world["remede"])
    run = json.loads((out / "run.json").read_text())
    assert run["n_train"] == 10 and run["base"] is None and run["base_dir"] == "random init"
    assert run["lora"] is True
    out = tmp_path / "joint"
    run_finetune(model_name="tiny", recipe="joint", kind="joint", base=world["base"],
                 remede_dir=world["remede"], train_tasks=list(TASKS),
                 predict_tasks_=list(TASKS), splits=list(SPLITS), out_dir=out,
                 work_dir=tmp_path / "w2", train=small_train(patience=1000, lr=1e-4),
                 score_settings=ScoreSettings(max_note_tokens=32, max_examples=4), config={},
                 seed=1)
    run = json.loads((out / "run.json").read_text())
    assert run["steps"] == 3 * len(TASKS) and run["n_train"] == 24 * len(TASKS)


def test_tfidf(world, tmp_path):
    out = tmp_path / "tfidf"
    run_tfidf(task="readmission", remede_dir=world["remede"], splits=list(SPLITS),
              out_dir=out, config={}, seed=0)
    check_predictions_no_ppl = pl.read_parquet(out / "readmission" / "test.parquet")
    assert check_predictions_no_ppl["qa_ppl"].is_null().all()
    assert json.loads((out / "run.json").read_text())["kind"] == "tfidf"


def test_score_cli(world, tmp_path, capsys):
    from lang1core.cli import main

    out = tmp_path / "p.parquet"
    assert main(["score", str(world["base"]), str(world["remede"] / "cci" / "test.parquet"),
                 "--out", str(out), "--max-note-tokens", "32", "--k-shot", "1"]) == 0
    assert pl.read_parquet(out).height == 10
    assert "cci: 10 examples" in capsys.readouterr().out


def test_imported_transformers_llama_is_a_base_model(world, tmp_path):
    # A directory written by transformers itself (not our exporter) scores and finetunes.
    import shutil

    transformers = pytest.importorskip("transformers")
    from lang1core.finetune.models import load_base
    from lang1core.finetune.tokens import Tokenizer

    cfg = transformers.LlamaConfig(
        vocab_size=Tokenizer(world["spm"]).vocab_size, hidden_size=32, intermediate_size=64,
        num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
        max_position_embeddings=256, tie_word_embeddings=False)
    hf_dir = tmp_path / "hf"
    transformers.LlamaForCausalLM(cfg).save_pretrained(hf_dir)
    shutil.copy(world["spm"], hf_dir / "tokenizer.model")
    model, tok, ptok = load_base(hf_dir)
    assert ptok is None and model.config.max_seq_len == 256
    out = tmp_path / "pred"
    run_finetune(model_name="imported", recipe="denial", kind="finetune", base=hf_dir,
                 remede_dir=world["remede"], train_tasks=["denial"], predict_tasks_=["denial"],
                 splits=["test"], out_dir=out, work_dir=tmp_path / "w",
                 train=small_train(lr=1e-4, lora=True),
                 score_settings=ScoreSettings(max_note_tokens=32), config={}, seed=0)
    assert pl.read_parquet(out / "denial" / "test.parquet").height == 10


def test_runs_name_their_base_model_not_its_folder():
    from lang1core.contracts import base_model

    assert base_model("lang1") == "lang1"
    assert base_model("lang1-s3") == "lang1"  # a pretraining snapshot belongs to its model
    assert base_model("clinical_only") == "clinical_only"
    assert base_model("scratch") is None


def test_tasks_asking_the_same_notes_write_what_plain_scoring_writes(world, tmp_path,
                                                                      monkeypatch):
    """Every task asks about the same notes: scored together in blocks of notes (prefix
    sharing) the files equal those of plain one-prompt-at-a-time scoring."""
    import functools

    import numpy as np

    from lang1core.finetune import runs
    from lang1core.finetune.scoring import score

    root = tmp_path / "remede"
    texts = pl.read_parquet(world["remede"] / "mortality" / "test.parquet")["text"]
    for task in TASKS:
        for split in ("train", "test"):
            df = pl.read_parquet(world["remede"] / task / f"{split}.parquet")
            if split == "test":
                df = df.with_columns(text=texts[: df.height])
            (root / task).mkdir(parents=True, exist_ok=True)
            df.write_parquet(root / task / f"{split}.parquet")
    out = {}
    for name, notes_per_call, scorer in (("shared", 3, score),
                                         ("plain", 10**6, functools.partial(score, share_prefix=False))):
        monkeypatch.setattr(runs, "NOTES_PER_CALL", notes_per_call)
        monkeypatch.setattr(runs, "score", scorer)
        out[name] = tmp_path / name
        run_prompted(model_name="tiny", recipe="kshot", kind="kshot", base=world["base"],
                     remede_dir=root, tasks=list(TASKS), splits=["test"], out_dir=out[name],
                     settings=ScoreSettings(max_note_tokens=24, k_shot=1), config={}, seed=3)
    for task in TASKS:
        a = pl.read_parquet(out["shared"] / task / "test.parquet")
        b = pl.read_parquet(out["plain"] / task / "test.parquet")
        assert a.columns == b.columns and a["example_id"].to_list() == b["example_id"].to_list()
        num = [c for c in a.columns if c.startswith("prob_")]
        np.testing.assert_allclose(a.select(num).to_numpy(), b.select(num).to_numpy(), atol=1e-5)
        np.testing.assert_allclose(a["qa_ppl"].to_numpy(), b["qa_ppl"].to_numpy(), rtol=1e-5)
