"""Model cards: README.md in every Hugging Face directory we write, in the Hugging Face
model-card layout (YAML front matter, then sections).

What a card can say depends on when it is written. `save_pretrained` writes one from the
model's own metadata (architecture, training settings, provenance); the workflow's
`model_card` rule and `lang1 export-hf --audit ... --metrics ... --mix-stats ...` write it
again with the training data summary, the evaluation table and the audit. A section whose
source is missing says so, and where it will come from. Cards carry counts and settings
only: no note text and no identifier.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from lang1core.publish import write_text

CARD = "README.md"
TRAIN_KEYS = ("tokens", "seq_len", "batch_size", "lr", "min_lr", "warmup_steps", "weight_decay", "grad_clip",
              "precision", "seed")
FINETUNE_KEYS = ("recipe", "lr", "best_step", "finetune_tokens")


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _counts(d: dict | None) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in (d or {}).items()) or "none"


def _details(name: str, meta: dict) -> str:
    cfg = meta.get("config") or meta.get("model_config") or {}
    prov = meta.get("provenance") or {}
    rows = [["architecture", "Llama decoder (LlamaForCausalLM)"], ["preset", meta.get("preset")],
            ["layers / dim / heads / kv heads", "/".join(_fmt(cfg.get(k)) for k in ("n_layers", "dim", "n_heads",
                                                                                      "n_kv_heads"))],
            ["vocabulary", cfg.get("vocab_size")], ["context (tokens)", cfg.get("max_seq_len")],
            ["pretraining tokens seen", meta.get("tokens_seen")],
            ["config hash", prov.get("config_hash")], ["code version", prov.get("code_version")]]
    return (f"## Model details\n\n`{name}`: a Llama decoder in Hugging Face format, written by lang1.\n\n"
            + _table(["", ""], rows))


def _data(mix_stats: dict | None) -> str:
    head = "## Training data\n\n"
    if not mix_stats:
        return head + ("Not recorded at export time: the pretraining mix's `mix_stats.json` "
                       "(`results/corpus/pretrain/{mix}/mix_stats.json`) summarises it.")
    rules = mix_stats.get("rules") or {}
    rows = [[s, v.get("train", {}).get("documents"), v.get("train", {}).get("chars"),
             v.get("val", {}).get("documents")] for s, v in sorted((mix_stats.get("sources") or {}).items())]
    can = mix_stats.get("canaries") or {}
    periods = ", ".join(f"{p['start']}..{p['end']}" for p in rules.get("exclude_periods") or []) or "none"
    weights = ", ".join(f"{k} {v}" for k, v in (mix_stats.get("weights") or {}).items())
    text = (f"Pretraining mix `{mix_stats.get('mix')}` (token weights: {weights}).\n\n"
            + _table(["source", "training documents", "training characters", "validation documents"], rows)
            + f"\n\nClinical notes written after {rules.get('cutoff') or 'no cutoff'}, in the excluded periods "
              f"({periods}) and from the held-out site ({rules.get('held_out_site') or 'none'}) were left out; "
              f"notes left out: {_counts(mix_stats.get('clinical_exclusions'))}; excluded notes found in "
              f"the mix by the leak check: {_counts(mix_stats.get('leak_check'))}.")
    if can:
        text += (f"\n\n{len(can.get('canaries', []))} synthetic canaries ({can.get('inserted_documents')} "
                 "of the clinical training documents above, fake identifiers only) were inserted for the "
                 "memorisation audit.")
    return head + text


def _settings(meta: dict) -> str:
    train = meta.get("train_config") or {}
    rows = [[k, train[k]] for k in TRAIN_KEYS if k in train]
    if meta.get("recipe"):
        rows += [[f"finetuning {k}", meta.get(k)] for k in FINETUNE_KEYS if k in meta]
        rows.append(["base model", Path(str(meta.get("base", ""))).parent.name or meta.get("base")])
    if not rows:
        return "## Training settings\n\nNot recorded in this directory's `lang1.json`."
    return "## Training settings\n\n" + _table(["setting", "value"], rows)


def _evaluation(metrics: list[dict] | None, split: str | None) -> str:
    head = "## Evaluation\n\n"
    if not metrics:
        return head + ("Not available at export time: the evaluation stage writes each run's AUROC with 95% "
                       "bootstrap intervals to `results/metrics/{model}/{recipe}.json`.")
    rows = []
    for m in metrics:
        for r in m.get("results", []):
            if split and r["split"] != split:
                continue
            a = (r.get("subsets") or {}).get("all") or {}
            ci = (f"{a['ci_low']:.3f}–{a['ci_high']:.3f}" if a.get("ci_low") is not None else None)
            rows.append([m.get("recipe"), r["task"], r["split"], a.get("n"), a.get("auroc"), ci, a.get("status")])
    where = f" on split `{split}`" if split else ""
    return head + f"AUROC with 95% bootstrap intervals{where} (clustered as the run's settings say).\n\n" + _table(
        ["recipe", "task", "split", "examples", "AUROC", "95% interval", "status"], rows)


def _audit(audit: dict | None) -> str:
    head = "## Memorisation and identifier audit\n\n"
    if not audit:
        return head + ("Not run at export time. `lang1 audit MODEL` (or the workflow's `audit` rule, "
                       "`results/audit/{model}.json`) measures canary exposure, extraction, membership "
                       "inference and identifier leakage; read it before sharing this model.")
    v = audit["verdict"]
    rows = [[c["check"], c["value"], c["threshold"],
             "pass" if c["pass"] else ("FAIL" if c["pass"] is False else c["status"])] for c in v["checks"]]
    return head + f"**Verdict: {'PASS' if v['pass'] else 'FAIL'}.**\n\n" + _table(
        ["check", "value", "threshold", "result"], rows)


USE = """## Intended use

Research on hospital-operations prediction (readmission, mortality, length of stay, comorbidity,
insurance denial) from a single note, inside the institution whose notes trained it, by people
allowed to see those notes. It is not a medical device and makes no decision about a patient.

## Limitations

- Trained and evaluated on one health system's notes (or a synthetic hospital's): performance
  elsewhere, and on later periods, must be measured, not assumed (see the temporal and external
  splits in the evaluation).
- A passing audit bounds what these tests detect at these sample sizes; it does not prove that
  no training text can be recovered. Share it only under the institution's data-use rules.
- Debug-size presets exist to exercise the workflow and predict little."""


def render_card(name: str, meta: dict, *, mix_stats: dict | None = None, audit: dict | None = None,
                metrics: list[dict] | None = None, split: str | None = None) -> str:
    front = {"library_name": "transformers", "pipeline_tag": "text-generation", "license": "other",
             "language": ["en"], "tags": ["llama", "clinical", "lang1"]}
    if audit:
        front["tags"].append("audit-pass" if audit["verdict"]["pass"] else "audit-fail")
    parts = [f"---\n{yaml.safe_dump(front, sort_keys=False)}---", f"# {name}", _details(name, meta),
             _data(mix_stats), _settings(meta), _evaluation(metrics, split), _audit(audit), USE]
    return "\n\n".join(parts) + "\n"


def write_card(model_dir: str | Path, name: str | None = None, *, meta: dict | None = None, **sections) -> Path:
    """Write README.md into `model_dir` (metadata from its lang1.json unless given)."""
    d = Path(model_dir)
    if meta is None:
        p = d / "lang1.json"
        meta = json.loads(p.read_text()) if p.exists() else {}
    if name is None and meta.get("recipe"):  # a finetuned model: {base}/{recipe}
        name = f"{Path(str(meta.get('base', ''))).parent.name or 'scratch'}/{meta['recipe']}"
    name = name or meta.get("model") or d.name
    out = d / CARD
    write_text(out, render_card(name, meta, **sections))  # a model folder's card is rewritten in place
    return out


def _read_json(path: str | Path, what: str) -> dict:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} not found: {p}")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: not valid JSON ({e})") from e


def card_sections(*, name: str | None = None, mix_stats=None, metrics=None, audit=None,
                  split: str | None = None) -> dict:
    """write_card keywords from file paths (any may be None)."""
    out: dict = {"name": name, "split": split}
    if mix_stats:
        out["mix_stats"] = _read_json(mix_stats, "mix statistics")
    if metrics:
        out["metrics"] = [_read_json(m, "metrics file") for m in metrics]
    if audit:
        out["audit"] = _read_json(audit, "audit result")
    return out
