"""Build the ReMedE task files, the probe and manifest.json from the validated export."""

from pathlib import Path

from lang1core.logs import setup_logging
from lang1core.provenance import provenance
from lang1core.remede.build import build_remede
from lang1core.remede.config import BuildConfig

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
cfg = BuildConfig.from_dict(sm.params.remede, seed=sm.params.seed, held_out_site=sm.params.held_out_site)
build_remede(
    Path(sm.input.tables[0]).parent,
    Path(sm.output.manifest).parent,
    cfg,
    provenance=provenance(sm.config, sm.params.seed, **{Path(p).stem: p for p in sm.input.tables}),
)
