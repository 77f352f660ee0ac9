"""The Llama model: presets, parameter counts, attention paths, loss, init."""

from __future__ import annotations

import logging

import pytest
import torch

from lang1core.model import PRESETS, Llama, ModelConfig
from lang1core.model.config import IMPL_SWITCHES


def tiny(**kw) -> ModelConfig:
    base = dict(vocab_size=101, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, hidden_dim=96, max_seq_len=64)
    base.update(kw)
    return ModelConfig(**base)


@pytest.mark.parametrize(
    "preset, expected, tol",
    [("tinyllama-1b", 1.100e9, 0.005e9), ("llama2-7b", 6.738e9, 0.005e9), ("smol-100m", 101e6, 2e6)],
)
def test_param_counts_on_meta(preset, expected, tol):
    with torch.device("meta"):
        model = Llama(ModelConfig.from_preset(preset))
    assert all(p.is_meta for p in model.parameters())
    assert abs(model.num_params() - expected) < tol, model.num_params()


def test_debug_preset_is_small():
    model = Llama(ModelConfig.from_preset("debug"))
    assert 1e6 < model.num_params() < 1e7
    assert set(PRESETS) >= {"debug", "smol-100m", "tinyllama-1b", "llama2-7b"}


def test_from_preset_and_section_errors():
    cfg = ModelConfig.from_preset("debug", vocab_size=500, attention="eager")
    assert cfg.vocab_size == 500 and cfg.attention == "eager"
    with pytest.raises(ValueError, match="nope"):
        ModelConfig.from_preset("nope")
    with pytest.raises(ValueError, match="dimm"):
        ModelConfig.from_preset("debug", dimm=3)
    with pytest.raises(ValueError, match="flash"):
        ModelConfig.from_preset("debug", attention="flash")
    sec = {"preset": "debug", "attention": "eager", "loss": "torch", "overrides": {"n_layers": 2}}
    cfg = ModelConfig.from_section(sec, vocab_size=77)
    assert (cfg.n_layers, cfg.vocab_size, cfg.attention) == (2, 77, "eager")
    with pytest.raises(ValueError, match="bogus"):
        ModelConfig.from_section({"preset": "debug", "bogus": 1})


def test_attention_paths_agree_and_are_causal():
    torch.manual_seed(0)
    cfg = tiny(attention="eager")
    m = Llama(cfg)
    m.init_weights(3)
    x = torch.randint(0, 101, (3, 47))
    ref = m(x)
    m.config.attention = "sdpa"
    for blk in m.blocks:
        blk.attn.cfg.attention = "sdpa"
    torch.testing.assert_close(m(x), ref, atol=1e-5, rtol=1e-5)
    # changing a later token must not change earlier logits
    x2 = x.clone()
    x2[:, 30:] = (x2[:, 30:] + 1) % 101
    torch.testing.assert_close(m(x2)[:, :30], ref[:, :30], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(m(x2)[:, 30:], ref[:, 30:])


def test_loss_matches_logits_and_ignores_index():
    torch.manual_seed(0)
    m = Llama(tiny())
    m.init_weights(0)
    x = torch.randint(0, 101, (3, 47))
    y = torch.randint(0, 101, (3, 47))
    y[0, :10] = -100
    logits = m(x)
    ref = torch.nn.functional.cross_entropy(logits.view(-1, 101), y.view(-1), ignore_index=-100)
    torch.testing.assert_close(m.loss(x, y), ref)
    hid = m.hidden(x)
    assert hid.shape == (3, 47, 64)


def test_triton_switch_falls_back_once_on_cpu(caplog, monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    from lang1core import logs

    logs._warned.clear()
    torch.manual_seed(0)
    m_ref = Llama(tiny())
    m_ref.init_weights(1)
    m = Llama(tiny(attention="triton", norm="triton", loss="fused"))
    m.load_state_dict(m_ref.state_dict())
    x = torch.randint(0, 101, (2, 9))
    with caplog.at_level(logging.WARNING):
        a = m.loss(x, x)
        m.loss(x, x)
    torch.testing.assert_close(a, m_ref.loss(x, x))
    msgs = [r.getMessage() for r in caplog.records if "falling back" in r.getMessage()]
    assert msgs and len(msgs) == len(set(msgs)), msgs  # each fallback said exactly once


def test_init_weights_deterministic_and_tied():
    a, b = Llama(tiny(tie_embeddings=True)), Llama(tiny(tie_embeddings=True))
    a.init_weights(7)
    b.init_weights(7)
    for (n, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(p, q), n
    assert a.output.weight is a.tok_embeddings.weight
    assert torch.all(a.norm.weight == 1)
    c = Llama(tiny(tie_embeddings=True))
    c.init_weights(8)
    assert not torch.equal(a.blocks[0].attn.wq.weight, c.blocks[0].attn.wq.weight)
    std = a.blocks[0].attn.wq.weight.std().item()
    assert 0.015 < std < 0.025


def test_backward_runs():
    m = Llama(tiny())
    m.init_weights(0)
    x = torch.randint(0, 101, (2, 13))
    m.loss(x, x).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in m.parameters())


def test_config_sections_build_models(repo):
    import jsonschema
    import yaml

    schema = yaml.safe_load((repo / "workflow/schemas/model.schema.yaml").read_text())
    default = yaml.safe_load((repo / "config.yaml").read_text())["model"]
    test = yaml.safe_load((repo / "configs/test.yaml").read_text())["model"]
    merged = {**default, **test}
    for section in (default, merged):
        jsonschema.validate(section, schema)
        cfg = ModelConfig.from_section(section, vocab_size=1000)
        assert Llama(cfg).num_params() > 0
    with pytest.raises(jsonschema.ValidationError, match="dimm"):
        jsonschema.validate({**default, "overrides": {"dimm": 3}}, schema)
    # every ModelConfig field except the switches can be overridden through the schema
    import dataclasses

    fields = {f.name for f in dataclasses.fields(ModelConfig)} - set(IMPL_SWITCHES)
    assert fields == set(schema["properties"]["overrides"]["properties"])


@pytest.mark.parametrize("tie", [False, True])
def test_meta_then_materialize_equals_direct_init(tie):
    direct = Llama(tiny(tie_embeddings=tie))
    direct.init_weights(5)
    with torch.device("meta"):
        lazy = Llama(tiny(tie_embeddings=tie))
    lazy.materialize("cpu", seed=5)
    assert not any(p.is_meta for p in lazy.parameters())
    assert (lazy.output.weight is lazy.tok_embeddings.weight) == tie
    for (n, p), (_, q) in zip(direct.state_dict().items(), lazy.state_dict().items()):
        assert torch.equal(p, q), n


def test_all_paths_go_through_forward_hooks():
    m = Llama(tiny())
    calls = []
    m.register_forward_pre_hook(lambda mod, args: calls.append(1))
    x = torch.randint(0, 101, (1, 5))
    m(x), m.hidden(x), m.loss(x, x)
    assert len(calls) == 3


@pytest.mark.parametrize("attention", ["eager", "sdpa", "triton"])
def test_cached_forward_equals_full_forward(attention):
    """Prefix then suffix through the cache (rows of different lengths, right-padded, and
    a third pass on top) gives the logits of the whole sequence run at once."""
    torch.manual_seed(0)
    m = Llama(tiny(attention=attention)).eval()
    m.init_weights(2)
    seqs = [torch.randint(0, 101, (n,)) for n in (23, 9, 17)]
    cuts = [(11, 19), (4, 6), (17, 17)]  # (prefix end, middle end); the last has no middle
    def padded(parts):
        x = torch.zeros(len(parts), max(len(p) for p in parts), dtype=torch.long)
        for i, p in enumerate(parts):
            x[i, : len(p)] = p
        return x, torch.tensor([len(p) for p in parts])
    with torch.no_grad():
        heads, tails, ends = [], [], []
        for s, (a, b) in zip(seqs, cuts):
            heads.append(s[:a]), tails.append(s[a:b]), ends.append(s[b:])
        x, n = padded(heads)
        h_logits, cache = m(x, lengths=n, use_cache=True)
        x2, n2 = padded(tails)
        t_logits, cache2 = m(x2, past=cache, lengths=n2)
        x3, n3 = padded(ends)
        e_logits, cache3 = m(x3, past=cache2, lengths=n3)
        assert torch.equal(cache3.lengths, torch.tensor([len(s) for s in seqs]))
        for i, s in enumerate(seqs):
            full = m(s[None])[0]
            a, b = cuts[i]
            got = torch.cat((h_logits[i, :a], t_logits[i, : b - a], e_logits[i, : len(s) - b]))
            torch.testing.assert_close(got, full, atol=1e-5, rtol=1e-5)
        # One cached prefix serves several rows (select repeats it).
        one, c1 = m(seqs[0][None, :11], use_cache=True)
        more = torch.stack((seqs[0][11:15], seqs[2][:4]))
        out, _ = m(more, past=c1.select(torch.tensor([0, 0])))
        torch.testing.assert_close(out[0], m(seqs[0][None, :15])[0, 11:], atol=1e-5, rtol=1e-5)
        alt = torch.cat((seqs[0][:11], seqs[2][:4]))
        torch.testing.assert_close(out[1], m(alt[None])[0, 11:], atol=1e-5, rtol=1e-5)


def test_kernel_switches_are_separate():
    from lang1core.model.llama import RMSNorm
    from lang1core.model.selfcheck import kernels_in_use

    assert kernels_in_use(tiny(attention="triton")) == ["attention"]
    assert kernels_in_use(tiny(norm="triton")) == ["rmsnorm"]
    assert kernels_in_use(tiny(loss="fused")) == ["fused_linear_ce"]
    norms = lambda m: [x.use_triton for x in m.modules() if isinstance(x, RMSNorm)]
    assert not any(norms(Llama(tiny(attention="triton"))))
    assert all(norms(Llama(ModelConfig.from_section({"preset": "debug", "norm": "triton"}, n_layers=1))))
    with pytest.raises(ValueError, match="norm='fused'"):
        tiny(norm="fused")


def test_pytorch_paths_are_the_kernels_references():
    from lang1core.kernels import flash_attention as fa
    from lang1core.kernels import fused_linear_ce as ce
    from lang1core.kernels import rmsnorm as rn

    torch.manual_seed(0)
    m = Llama(tiny(attention="eager"))
    m.init_weights(2)
    x = torch.randn(2, 5, m.config.dim)
    torch.testing.assert_close(m.norm(x), rn.rmsnorm_reference(x, m.norm.weight, m.config.norm_eps), rtol=0, atol=0)
    q, k = torch.randn(2, 4, 5, 8), torch.randn(2, 2, 5, 8)
    from lang1core.model.llama import eager_attention

    torch.testing.assert_close(eager_attention(q, k, k), fa.attention_reference(q, k, k), rtol=0, atol=0)
    ids = torch.randint(0, m.config.vocab_size, (2, 6))
    h = m.norm(m.tok_embeddings(ids))
    want = ce.linear_cross_entropy_reference(h.reshape(-1, h.shape[-1]), m.output.weight, ids.reshape(-1))
    torch.testing.assert_close(m._loss(h, ids, -100), want, rtol=0, atol=0)
