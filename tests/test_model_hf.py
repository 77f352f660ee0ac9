"""Parity with transformers' LlamaForCausalLM, and the export/import round trip."""

from __future__ import annotations

import json

import pytest
import torch

from lang1core.model import Llama, ModelConfig
from lang1core.model.hf import load_pretrained, read_lang1_json, save_pretrained

transformers = pytest.importorskip("transformers")


def small_model(tie: bool = False, attention: str = "eager") -> Llama:
    cfg = ModelConfig(vocab_size=257, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=160,
                      max_seq_len=128, rope_theta=10000.0, norm_eps=1e-5, tie_embeddings=tie,
                      attention=attention)
    m = Llama(cfg)
    m.init_weights(11)
    with torch.no_grad():  # non-trivial norm weights so a mix-up of norms would show
        for n, p in m.named_parameters():
            if n.endswith("norm.weight"):
                p.uniform_(0.5, 1.5)
    return m.eval()


@pytest.mark.parametrize("tie, attention", [(False, "eager"), (True, "eager"), (False, "sdpa")])
def test_logits_match_transformers(tmp_path, tie, attention):
    m = small_model(tie, attention)
    save_pretrained(m, tmp_path / "hf", extra={"tokens_seen": 123})
    hf = transformers.LlamaForCausalLM.from_pretrained(tmp_path / "hf", torch_dtype=torch.float32).eval()
    x = torch.randint(0, 257, (3, 47))
    with torch.no_grad():
        ours = m(x)
        theirs = hf(x).logits
    assert (ours - theirs).abs().max().item() < 1e-4
    assert read_lang1_json(tmp_path / "hf")["tokens_seen"] == 123


def test_round_trip_exact(tmp_path):
    m = small_model()
    save_pretrained(m, tmp_path / "a")
    back = load_pretrained(tmp_path / "a")
    assert back.config == m.config
    sd, sd2 = m.state_dict(), back.state_dict()
    assert sd.keys() == sd2.keys()
    for k in sd:
        assert torch.equal(sd[k], sd2[k]), k
    assert load_pretrained(tmp_path / "a", attention="sdpa").config.attention == "sdpa"
    bf = load_pretrained(tmp_path / "a", dtype=torch.bfloat16)
    assert bf.blocks[0].attn.wq.weight.dtype == torch.bfloat16
    tied = small_model(tie=True)
    save_pretrained(tied, tmp_path / "t")
    back = load_pretrained(tmp_path / "t")
    assert back.output.weight is back.tok_embeddings.weight
    assert torch.equal(back.output.weight, tied.output.weight)


def test_loads_directory_written_by_transformers(tmp_path):
    hcfg = transformers.LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=128,
                                    num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
                                    max_position_embeddings=96, rms_norm_eps=1e-6, tie_word_embeddings=False)
    torch.manual_seed(0)
    hf = transformers.LlamaForCausalLM(hcfg).eval()
    hf.save_pretrained(tmp_path / "hfdir", max_shard_size="100KB")  # sharded safetensors
    assert not (tmp_path / "hfdir" / "lang1.json").exists()
    ours = load_pretrained(tmp_path / "hfdir").eval()
    assert ours.config.n_kv_heads == 1 and ours.config.norm_eps == 1e-6
    x = torch.randint(0, 300, (2, 33))
    with torch.no_grad():
        assert (ours(x) - hf(x).logits).abs().max().item() < 1e-4


def test_export_has_contracted_files(tmp_path):
    m = small_model()
    out = save_pretrained(m, tmp_path / "x", extra={"provenance": {"seed": 1}})
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "generation_config.json", "model.safetensors", "lang1.json"} <= names
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architectures"] == ["LlamaForCausalLM"] and cfg["num_key_value_heads"] == 2
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_pretrained(tmp_path / "missing")


@pytest.fixture(scope="module")
def spm_model(tmp_path_factory):
    spm = pytest.importorskip("sentencepiece")
    d = tmp_path_factory.mktemp("spm")
    text = ["the patient was admitted to the hospital with chest pain and shortness of breath",
            "discharge summary: stable, follow up in clinic in two weeks"] * 50
    spm.SentencePieceTrainer.train(sentence_iterator=iter(text), model_prefix=str(d / "sp"), vocab_size=320,
                                   model_type="bpe", byte_fallback=True, bos_id=1, eos_id=2, unk_id=0,
                                   pad_id=-1, minloglevel=2, hard_vocab_limit=False)
    return d / "sp.model"


def test_cli_export_and_import_with_tokenizer(tmp_path, spm_model):
    import sentencepiece as spm

    from lang1core.cli import main

    sp = spm.SentencePieceProcessor(model_file=str(spm_model))
    cfg = ModelConfig(vocab_size=sp.vocab_size(), dim=32, n_layers=1, n_heads=2, n_kv_heads=1, hidden_dim=64,
                      max_seq_len=64)
    m = Llama(cfg)
    m.init_weights(5)
    save_pretrained(m, tmp_path / "final", tokenizer_model=spm_model, extra={"tokens_seen": 99})
    assert main(["export-hf", str(tmp_path / "final"), str(tmp_path / "hf"), "--check"]) == 0
    assert (tmp_path / "hf" / "tokenizer.model").read_bytes() == spm_model.read_bytes()
    assert read_lang1_json(tmp_path / "hf")["tokens_seen"] == 99
    # transformers reads the tokenizer and tokenizes exactly like SentencePiece (BOS first)
    pytest.importorskip("google.protobuf")
    tok = transformers.AutoTokenizer.from_pretrained(tmp_path / "hf")
    text = "the patient was admitted, follow up in 2 weeks"
    assert tok(text)["input_ids"] == [sp.bos_id()] + sp.encode(text)
    # a transformers-written directory imports and keeps its weights exactly
    hf = transformers.LlamaForCausalLM.from_pretrained(tmp_path / "hf")
    hf.save_pretrained(tmp_path / "theirs")
    assert main(["import-hf", str(tmp_path / "theirs"), str(tmp_path / "ours"), "--tokenizer", str(spm_model)]) == 0
    back = load_pretrained(tmp_path / "ours")
    for k, v in m.state_dict().items():
        assert torch.equal(back.state_dict()[k], v), k
    assert read_lang1_json(tmp_path / "ours")["imported_from"].endswith("theirs")


def test_a_republished_final_folder_loads_the_new_weights(tmp_path):
    """`final/` swapped in by lang1core.publish is a plain folder both loaders read, holding
    the second model only."""
    from lang1core.publish import published_dir

    final = tmp_path / "final"
    first, second = small_model(), small_model(tie=True)
    with torch.no_grad():
        second.tok_embeddings.weight.add_(1.0)
    for m in (first, second):
        with published_dir(final) as tmp:
            save_pretrained(m, tmp)
    assert final.is_dir() and not final.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final"]
    assert torch.equal(load_pretrained(final).tok_embeddings.weight, second.tok_embeddings.weight)
    hf = transformers.LlamaForCausalLM.from_pretrained(final, torch_dtype=torch.float32)
    assert torch.equal(hf.model.embed_tokens.weight, second.tok_embeddings.weight)
