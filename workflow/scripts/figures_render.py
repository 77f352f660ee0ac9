"""Rules figure_*: draw one figure (or dataset table) from the evaluation tables."""

from pathlib import Path

from lang1core.figures import DATASET_TABLES, render, render_dataset_table
from lang1core.figures.common import options_from_config
from lang1core.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821 - snakemake injects this object
name = snakemake.params.name  # noqa: F821 - snakemake injects this object
options = options_from_config(snakemake.params.figures, snakemake.params.source)  # noqa: F821 - snakemake injects this object
outputs = [snakemake.output.png, *snakemake.output.other]  # noqa: F821 - snakemake injects this object
tables_dir = Path(snakemake.params.tables_dir)  # noqa: F821 - snakemake injects this object
if name in DATASET_TABLES:
    render_dataset_table(name, tables_dir, outputs, options)
else:
    render(name, tables_dir, outputs, options)
