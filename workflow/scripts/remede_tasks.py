"""Build the ReMedE task files, the probe and manifest.json from the validated export."""

from pathlib import Path

from lang1core.logs import setup_logging
from lang1core.private_files import DIR_MODE, FILE_MODE, parse_mode
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
    file_mode=parse_mode(sm.params.export.get("file_mode"), FILE_MODE, "export.file_mode"),
    dir_mode=parse_mode(sm.params.export.get("dir_mode"), DIR_MODE, "export.dir_mode"),
)
