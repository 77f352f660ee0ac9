"""Rule dataset_tables: copy ReMedE's dataset tables (stats/B*.csv, .md) into tables/."""

from pathlib import Path

from lang1core.evaluate.tables import dataset_tables
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
index = Path(sm.output.index)
dataset_tables(Path(sm.input.manifest).parent / "stats", index.parent, index)
