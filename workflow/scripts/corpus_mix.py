"""Build one pretraining mix: exclusions (cutoff, test window, held-out site), train/val split."""

from pathlib import Path

from lang1core.corpus.io import write_json
from lang1core.corpus.mix import build_mix
from lang1core.logs import setup_logging
from lang1core.private_files import config_modes
from lang1core.provenance import provenance

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
p = sm.params
stats = build_mix(p.weights, sm.input.get("clean"), sm.input.get("general"), sm.output.train, sm.output.val,
                  validated_dir=Path(sm.input.encounters).parent, cutoff=p.cutoff, exclude_periods=p.exclude_periods,
                  held_out_site=p.held_out_site, val_fraction=p.val_fraction, min_val_documents=p.min_val_documents,
                  seed=p.seed, canaries=p.canaries, modes=config_modes(sm.config))  # note text: owner-only
write_json(sm.output.stats, {"mix": sm.wildcards.mix, **stats}, provenance(sm.config, p.seed))
