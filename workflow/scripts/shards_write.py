"""Encode one mix's train/val documents into flat token shards and write index.json."""

from pathlib import Path

from lang1core.corpus.shards import write_shards
from lang1core.logs import setup_logging
from lang1core.private_files import config_modes
from lang1core.provenance import provenance

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
write_shards({"train": sm.input.train, "val": sm.input.val}, sm.input.tokenizer, Path(sm.output.index).parent,
             sm.params.weights, shard_tokens=sm.params.shard_tokens, threads=sm.threads,
             batch_docs=sm.params.batch_docs, modes=config_modes(sm.config),
             extra={"mix": sm.wildcards.mix, "provenance": provenance(sm.config, sm.config["seed"])})
