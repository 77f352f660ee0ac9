"""Rule pretrain: train one model of `pretrain.models` (torchrun when gpus > 1)."""

import os

# OpenMP threads that spin while waiting make a CPU run 10x slower as soon as other jobs
# share the cores (measured: 1.1 s vs 0.09 s per debug step); passive waiting costs ~nothing.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402 - after the OpenMP setting above

from lang1core.logs import setup_logging  # noqa: E402 - after the OpenMP setting above
from lang1core.provenance import provenance  # noqa: E402 - after the OpenMP setting above
from lang1core.train.pretrain import launch  # noqa: E402 - after the OpenMP setting above

sm = snakemake  # noqa: F821 - snakemake injects this object
setup_logging(sm.log[0])
torch.set_num_threads(sm.threads)
launch(
    dict(
        run_dir=sm.params.run_dir,
        shard_dir=sm.params.shard_dir,
        tokenizer_model=sm.input.tokenizer,
        model_section=dict(sm.params.model_section),
        preset=sm.params.preset,
        train=dict(sm.params.train),
        label=sm.wildcards.model,
        provenance=provenance(sm.params.config_section, sm.params.seed,
                              shards_index=sm.input.index, tokenizer=sm.input.tokenizer),
        progress=False,
    ),
    gpus=sm.params.gpus,
)
