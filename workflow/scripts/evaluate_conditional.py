"""Rule conditional_table: P(LOS | mortality) and P(mortality | LOS) from ReMedE labels (Fig F6)."""

from lang1core.evaluate.tables import conditional_table
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
conditional_table(list(sm.input.mortality), list(sm.input.los), sm.output.table)
