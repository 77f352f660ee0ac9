"""Rule tables: merge every metrics JSON into tables/{runs,auroc,calibration,strata,alerts}.csv."""

from pathlib import Path

from lang1core.evaluate.tables import build_tables
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
build_tables(list(sm.input.metrics), Path(sm.output.auroc).parent)
