"""Rules finetune_train / finetune_efficiency: finetune one base model (or a random init)
on one task, all tasks jointly, or a training subset, then predict."""

import os

# Idle OpenMP threads sleep instead of spinning: spinning made CPU runs many times slower
# whenever other jobs shared the cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402 - after the OpenMP setting above

from lang1core.finetune.runs import run_finetune, settings_from_config  # noqa: E402 - after the OpenMP setting above
from lang1core.logs import setup_logging  # noqa: E402 - after the OpenMP setting above

sm = snakemake  # noqa: F821 - snakemake injects this object
# R/remede/{task}/{split}.parquet -> R/remede
remede_dir = os.path.dirname(os.path.dirname(sm.input.remede[0]))
setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
model = sm.wildcards.model
settings, train = settings_from_config(
    sm.params.settings, sm.params.seed, lora=model in sm.params.settings["lora_models"]
)
base = list(sm.input.base) if not isinstance(sm.input.base, str) else [sm.input.base]
tokenizer = sm.input.tokenizer
recipe = sm.wildcards.get("recipe") or f"{sm.wildcards.task}-n{sm.wildcards.n}"
run_finetune(
    model_name=model, recipe=recipe, kind=sm.params.kind,
    base=base[0] if base else None,
    tokenizer_file=tokenizer if isinstance(tokenizer, str) else None,
    model_config=dict(sm.params.model_section), remede_dir=remede_dir,
    train_tasks=list(sm.params.train_tasks), predict_tasks_=list(sm.params.predict_tasks),
    splits=list(sm.params.splits), out_dir=os.path.dirname(sm.output.run),
    work_dir=sm.params.work_dir, n_train=sm.params.n_train, train=train,
    score_settings=settings, config=dict(sm.params.settings), seed=sm.params.seed,
    device=sm.params.settings["device"],
)
