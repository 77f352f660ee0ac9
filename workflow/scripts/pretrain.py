"""Rule pretrain: train one model of `pretrain.models` (torchrun when gpus > 1)."""

import torch

from lang1core.logs import setup_logging
from lang1core.provenance import provenance
from lang1core.train.pretrain import launch

sm = snakemake  # noqa: F821
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
