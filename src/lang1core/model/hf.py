"""Hugging Face Llama directories: export our model, import ours or anyone's.

A directory written by `save_pretrained` holds
- `config.json`: a `LlamaForCausalLM` config that `transformers` reads unchanged;
- `generation_config.json`: sampling settings (see `generation_config`);
- `model.safetensors`: weights under Hugging Face names (a tied output is stored once, as
  Hugging Face does);
- `tokenizer.model` (+ `tokenizer_config.json`) when a SentencePiece model is given;
- `lang1.json`: our ModelConfig plus caller metadata (`extra`: tokens_seen, provenance, ...);
- `README.md`: a model card (`lang1core.audit.card`).

`load_pretrained` reads such a directory or a plain `transformers` Llama directory
(e.g. a local Llama-2 or TinyLlama download; single or sharded safetensors, or
pytorch_model.bin). Weights convert by renaming only, so a round trip is bit-exact.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch

from lang1core.audit.card import write_card
from lang1core.model.config import ModelConfig
from lang1core.model.llama import Llama

LANG1_JSON = "lang1.json"
GENERATION_CONFIG = "generation_config.json"


def hf_name(ours: str) -> str:
    """Our parameter name -> Hugging Face LlamaForCausalLM name."""
    if ours == "tok_embeddings.weight":
        return "model.embed_tokens.weight"
    if ours == "norm.weight":
        return "model.norm.weight"
    if ours == "output.weight":
        return "lm_head.weight"
    parts = ours.split(".")  # blocks.{i}.{module}[.{sub}].weight
    if parts[0] != "blocks":
        raise KeyError(f"no Hugging Face name for parameter {ours!r}")
    i, rest = parts[1], ".".join(parts[2:])
    table = {
        "attn_norm.weight": "input_layernorm.weight",
        "mlp_norm.weight": "post_attention_layernorm.weight",
        "attn.wq.weight": "self_attn.q_proj.weight",
        "attn.wk.weight": "self_attn.k_proj.weight",
        "attn.wv.weight": "self_attn.v_proj.weight",
        "attn.wo.weight": "self_attn.o_proj.weight",
        "mlp.w1.weight": "mlp.gate_proj.weight",
        "mlp.w3.weight": "mlp.up_proj.weight",
        "mlp.w2.weight": "mlp.down_proj.weight",
    }
    if rest not in table:
        raise KeyError(f"no Hugging Face name for parameter {ours!r}")
    return f"model.layers.{i}.{table[rest]}"


def hf_config(cfg: ModelConfig, dtype: torch.dtype, bos_id: int | None = 1, eos_id: int | None = 2) -> dict:
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.dim,
        "intermediate_size": cfg.hidden_dim,
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_kv_heads,
        "head_dim": cfg.head_dim,
        "hidden_act": "silu",
        "max_position_embeddings": cfg.max_seq_len,
        "rms_norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "rope_scaling": None,
        "tie_word_embeddings": cfg.tie_embeddings,
        "attention_bias": False,
        "mlp_bias": False,
        "initializer_range": cfg.init_std,
        "bos_token_id": bos_id,
        "eos_token_id": eos_id,
        "torch_dtype": str(dtype).removeprefix("torch."),
    }


def generation_config(bos_id: int | None, eos_id: int | None) -> dict:
    """Sampling from the model's whole distribution by default, as OpenAI-compatible servers do:
    without it transformers generates greedily (do_sample false) and keeps only the top 50
    tokens, so `transformers serve` would answer every temperature-1 request identically."""
    return {"bos_token_id": bos_id, "eos_token_id": eos_id, "do_sample": True, "temperature": 1.0,
            "top_k": 0, "top_p": 1.0}


def config_from_hf(hf: dict, source: str = "config.json") -> ModelConfig:
    """ModelConfig from a transformers Llama config.json (dict); unsupported features raise."""
    if hf.get("model_type", "llama") != "llama":
        raise ValueError(f"{source}: model_type={hf.get('model_type')!r}; expected 'llama'")
    scaling = hf.get("rope_scaling")
    if scaling and scaling.get("rope_type", scaling.get("type")) not in (None, "default"):
        raise ValueError(f"{source}: rope_scaling={scaling!r} is not supported (expected null)")
    for key in ("attention_bias", "mlp_bias"):
        if hf.get(key):
            raise ValueError(f"{source}: {key}=true is not supported (expected false)")
    if hf.get("hidden_act", "silu") != "silu":
        raise ValueError(f"{source}: hidden_act={hf['hidden_act']!r}; expected 'silu'")
    dim, n_heads = hf["hidden_size"], hf["num_attention_heads"]
    if hf.get("head_dim") not in (None, dim // n_heads):
        raise ValueError(f"{source}: head_dim={hf['head_dim']} != hidden_size/num_attention_heads")
    rope_theta = hf.get("rope_theta")
    if rope_theta is None:  # transformers >= 5 may nest it under rope_parameters
        rope_theta = (hf.get("rope_parameters") or {}).get("rope_theta", 10000.0)
    return ModelConfig(
        vocab_size=hf["vocab_size"], dim=dim, n_layers=hf["num_hidden_layers"], n_heads=n_heads,
        n_kv_heads=hf.get("num_key_value_heads") or n_heads, hidden_dim=hf["intermediate_size"],
        max_seq_len=hf.get("max_position_embeddings", 2048), rope_theta=float(rope_theta),
        norm_eps=hf.get("rms_norm_eps", 1e-6), tie_embeddings=bool(hf.get("tie_word_embeddings", False)),
        init_std=hf.get("initializer_range", 0.02),
    )


def _special_ids(tokenizer_model: str | Path | None) -> tuple[int | None, int | None]:
    if tokenizer_model is None:
        return 1, 2  # Llama's SentencePiece ids
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_model))
    bos, eos = sp.bos_id(), sp.eos_id()
    return (bos if bos >= 0 else None), (eos if eos >= 0 else None)


def save_pretrained(model: Llama, out_dir: str | Path, tokenizer_model: str | Path | None = None,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write `model` as a Hugging Face Llama directory (see the module docstring).

    Under torch.distributed (e.g. FSDP2 DTensor parameters) call it on every rank: sharded
    parameters are gathered collectively and only rank 0 writes."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    cfg = model.config
    tensors: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    dtype = None
    for name, p in model.named_parameters():  # named_parameters yields a tied weight once
        if id(p) in seen:
            continue
        seen.add(id(p))
        p = _full_tensor(p)
        dtype = dtype or p.dtype
        tensors[hf_name(name)] = p.detach().to("cpu").contiguous()
    if cfg.tie_embeddings:
        tensors.pop("lm_head.weight", None)
    if torch.distributed.is_available() and torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
        return out
    out.mkdir(parents=True, exist_ok=True)
    bos, eos = _special_ids(tokenizer_model)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(hf_config(cfg, dtype or torch.float32, bos, eos), indent=2) + "\n")
    (out / GENERATION_CONFIG).write_text(json.dumps(generation_config(bos, eos), indent=2) + "\n")
    if tokenizer_model is not None:
        shutil.copyfile(tokenizer_model, out / "tokenizer.model")
        (out / "tokenizer_config.json").write_text(json.dumps({
            "tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False,
            "model_max_length": cfg.max_seq_len, "legacy": True,
        }, indent=2) + "\n")
    meta = {"config": cfg.to_dict(), **(extra or {})}
    (out / LANG1_JSON).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    # Every directory we write carries a model card; what export time cannot know (evaluation,
    # audit) it says is missing, and the model_card rule or `lang1 export-hf` fills it in.
    write_card(out, meta=json.loads(json.dumps(meta, default=str)))
    return out


def read_lang1_json(model_dir: str | Path) -> dict[str, Any]:
    """Our metadata beside the weights ({} for a directory that transformers wrote)."""
    path = Path(model_dir) / LANG1_JSON
    return json.loads(path.read_text()) if path.exists() else {}


def load_config(model_dir: str | Path, **config_overrides: Any) -> ModelConfig:
    d = Path(model_dir)
    meta = read_lang1_json(d)
    if "config" in meta:
        base = meta["config"]
    else:
        path = d / "config.json"
        if not path.exists():
            raise FileNotFoundError(f"{d}: neither {LANG1_JSON} nor config.json found")
        base = config_from_hf(json.loads(path.read_text()), str(path)).to_dict()
    return ModelConfig.from_dict({**base, **config_overrides})


def load_pretrained(model_dir: str | Path, *, dtype: torch.dtype | None = None,
                    device: str | torch.device = "cpu", **config_overrides: Any) -> Llama:
    """Load our export or a transformers Llama directory. `config_overrides` are ModelConfig
    fields (e.g. attention="sdpa"); `dtype` casts (default: as stored)."""
    d = Path(model_dir)
    cfg = load_config(d, **config_overrides)
    state = _read_hf_state(d)
    with torch.device("meta"):
        model = Llama(cfg)
    ours: dict[str, torch.Tensor] = {}
    names = [n for n, _ in model.named_parameters(remove_duplicate=False)]
    for name in names:
        key = hf_name(name)
        if key not in state:
            if name == "output.weight" and cfg.tie_embeddings:
                continue
            raise KeyError(f"{d}: weight {key!r} (for {name}) missing from the checkpoint")
        t = state.pop(key)
        if dtype is not None:
            t = t.to(dtype)
        ours[name] = t.to(device)
    leftover = [k for k in state if not k.endswith("rotary_emb.inv_freq")]
    if leftover:
        raise KeyError(f"{d}: unexpected weights {leftover[:5]}{'...' if len(leftover) > 5 else ''}")
    if cfg.tie_embeddings:
        ours.pop("output.weight", None)
        model.load_state_dict(ours, strict=False, assign=True)
        model.output.weight = model.tok_embeddings.weight
    else:
        model.load_state_dict(ours, strict=True, assign=True)
    for name, p in model.named_parameters():
        if p.is_meta:
            raise RuntimeError(f"{d}: parameter {name} was not loaded")
    return model


def _read_hf_state(d: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    if (d / "model.safetensors").exists():
        return load_file(str(d / "model.safetensors"))
    index = d / "model.safetensors.index.json"
    if index.exists():
        files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        state: dict[str, torch.Tensor] = {}
        for f in files:
            state.update(load_file(str(d / f)))
        return state
    bins = sorted(d.glob("pytorch_model*.bin"))
    if bins:
        state = {}
        for f in bins:
            state.update(torch.load(f, map_location="cpu", weights_only=True))
        return state
    raise FileNotFoundError(f"{d}: no model.safetensors, model.safetensors.index.json or pytorch_model*.bin")


def _full_tensor(p: torch.Tensor) -> torch.Tensor:
    """Gather an FSDP2 DTensor parameter into a plain tensor (identity otherwise)."""
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:  # pragma: no cover
        return p
    return p.full_tensor() if isinstance(p, DTensor) else p
