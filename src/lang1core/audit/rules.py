"""Which models the workflow audits, and where each one's files are, as plain functions of
the config (no Snakemake), so that workflow/rules/audit.smk holds rules only.

An audited name is a pretrained model (`lang1`) or a finetuned run (`lang1/joint`).
"""

from __future__ import annotations

from collections.abc import Callable


def audited(config: dict) -> list[str]:
    a, pre = config["audit"], list(config["pretrain"]["models"])
    names = list(pre if a["pretrained"] is None else a["pretrained"])
    unknown = [m for m in names if m not in pre]
    if unknown:
        raise ValueError(f"audit.pretrained names {unknown}, not models of pretrain.models ({pre})")
    for run in a["finetuned"]:
        base, _, recipe = run.partition("/")
        if base not in pre or not recipe:
            raise ValueError(f"audit.finetuned entry {run!r}: expected 'MODEL/RECIPE' with MODEL one of "
                             f"pretrain.models ({pre})")
        if not config["finetune"]["save_checkpoints"]:
            raise ValueError(f"audit.finetuned lists {run!r} but finetune.save_checkpoints is false, so the "
                             f"finetuned model is not kept (set it true, or audit.finetuned: [])")
    return names + list(a["finetuned"])


PRETRAINED = "pretrained"


def share_dir(name: str, res: Callable[..., str]) -> str:
    """results/share/{model}/pretrained or results/share/{model}/{recipe}: the model with its card."""
    base, _, recipe = name.partition("/")
    return res("share", base, recipe or PRETRAINED)


def name_of_share(base: str, variant: str) -> str:
    return base if variant == PRETRAINED else f"{base}/{variant}"


def base_of(name: str) -> str:
    return name.partition("/")[0]


def model_dir(name: str, res: Callable[..., str]) -> str:
    base, _, recipe = name.partition("/")
    return res("finetune", base, recipe, "checkpoint") if recipe else res("pretrain", base, "final")


def mix_of(name: str, config: dict) -> str:
    return config["pretrain"]["models"][base_of(name)]["mix"]


def reference_dir(name: str, config: dict, res: Callable[..., str]) -> str | None:
    """The reference model's final directory; None when there is none or it is the model itself."""
    ref = config["audit"]["reference_model"]
    if ref is None or name == ref:
        return None
    if ref not in config["pretrain"]["models"]:
        raise ValueError(f"audit.reference_model {ref!r} is not a model of pretrain.models")
    return res("pretrain", ref, "final")


def inputs(name: str, config: dict, res: Callable[..., str]) -> dict[str, str]:
    """Files the audit of `name` reads (a finetuned run's run.json stands for its checkpoint,
    which is not a rule output)."""
    base, _, recipe = name.partition("/")
    mix = mix_of(name, config)
    out = {"train": res("corpus", "pretrain", mix, "train.parquet"),
           "mix_stats": res("corpus", "pretrain", mix, "mix_stats.json"),
           "clean": res("corpus", "clean.parquet"), "patients": res("validated", "patients.parquet")}
    out["model"] = res("predictions", base, recipe, "run.json") if recipe else model_dir(name, res)
    ref = reference_dir(name, config, res)
    if ref:
        out["reference"] = ref
    return out


def card_metrics(name: str, evaluated: set[tuple[str, str]], res: Callable[..., str]) -> list[str]:
    """Metrics files the card's evaluation table reads: the finetuned run's own, or a
    pretrained model's zero-shot run (when the experiment evaluates them)."""
    base, _, recipe = name.partition("/")
    key = (base, recipe or "zeroshot")
    return [res("metrics", key[0], f"{key[1]}.json")] if key in evaluated else []
