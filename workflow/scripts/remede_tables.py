"""Write the study's dataset Tables B1-B7 (CSV + Markdown) from the built task files."""

import json
from pathlib import Path

from lang1core.logs import setup_logging
from lang1core.remede.tables import write_tables

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
manifest = json.loads(Path(sm.input.manifest).read_text())
write_tables(Path(sm.input.manifest).parent, manifest, Path(sm.output.csv[0]).parent)
