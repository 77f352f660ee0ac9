"""Which models the workflow audits, and how their names read, as plain functions of the
config (no Snakemake); where their files are is workflow/rules/common.smk's (audit_inputs...).

An audited name is a pretrained model (`lang1`) or a finetuned run (`lang1/joint`); its shared
copy is results/share/{model}/pretrained or results/share/{model}/{recipe}.
"""

from __future__ import annotations


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


def name_of_share(base: str, variant: str) -> str:
    return base if variant == PRETRAINED else f"{base}/{variant}"


def base_of(name: str) -> str:
    return name.partition("/")[0]


def mix_of(name: str, config: dict) -> str:
    return config["pretrain"]["models"][base_of(name)]["mix"]
