"""Parity with transformers' LlamaForCausalLM, and the export/import round trip."""

from __future__ import annotations

import json

import pytest
import torch

from lang1core.model import Llama, ModelConfig
from lang1core.model.hf import load_pretrained, read_lang1_json, save_pretrained

transformers = pytest.importorskip("transformers")


def small_model(tie: bool = False) -> Llama:
    cfg = ModelConfig(vocab_size=257, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=160,
                      max_seq_len=128, rope_theta=10000.0, norm_eps=1e-5, tie_embeddings=tie,
                      attention="eager")
    m = Llama(cfg)
    m.init_weights(11)
    with torch.no_grad():  # non-trivial norm weights so a mix-up of norms would show
        for n, p in m.named_parameters():
            if n.endswith("norm.weight"):
                p.uniform_(0.5, 1.5)
    return m.eval()


@pytest.mark.parametrize("tie", [False, True])
def test_logits_match_transformers(tmp_path, tie):
    m = small_model(tie)
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
    assert {"config.json", "model.safetensors", "lang1.json"} <= names
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architectures"] == ["LlamaForCausalLM"] and cfg["num_key_value_heads"] == 2
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_pretrained(tmp_path / "missing")
