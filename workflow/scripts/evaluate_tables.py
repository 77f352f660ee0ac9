"""Rule tables: every metrics JSON -> tables/{runs,auroc,calibration,strata,alerts}.csv, plus
conditional.csv (Fig F6) and ReMedE's dataset tables B*.csv."""

from pathlib import Path

from lang1core.evaluate.tables import write_tables
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821 - snakemake injects this object
setup_logging(sm.log[0])
write_tables(
    list(sm.input.metrics),
    Path(sm.output.auroc).parent,
    mortality=list(sm.input.mortality),
    los=list(sm.input.los),
    dataset_files=list(sm.input.datasets),
)
