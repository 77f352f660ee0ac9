"""Rules finetune_zeroshot / finetune_kshot: predictions of one base model without training
(zero-shot also answers the reading-comprehension probe)."""

import os

# Idle OpenMP threads sleep instead of spinning: spinning made CPU runs many times slower
# whenever other jobs shared the cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402 - after the OpenMP setting above

from lang1core.finetune.runs import run_prompted, settings_from_config  # noqa: E402 - after the OpenMP setting above
from lang1core.logs import setup_logging  # noqa: E402 - after the OpenMP setting above

sm = snakemake  # noqa: F821 - snakemake injects this object
# R/remede/{task}/{split}.parquet -> R/remede
remede_dir = os.path.dirname(os.path.dirname(sm.input.remede[0]))
setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
settings, _ = settings_from_config(sm.params.settings, sm.params.seed)
if sm.params.recipe == "zeroshot":
    settings.k_shot = 0
run_prompted(
    model_name=sm.wildcards.model, recipe=sm.params.recipe, kind=sm.params.kind,
    base=sm.input.base, remede_dir=remede_dir, tasks=list(sm.params.tasks),
    splits=list(sm.params.splits), out_dir=os.path.dirname(sm.output.run),
    settings=settings, config=dict(sm.params.settings), seed=sm.params.seed,
    device=sm.params.settings["device"], probe_splits=list(sm.params.probe_splits),
)
