"""Map MIMIC-III's NOTEEVENTS, ADMISSIONS, PATIENTS and DIAGNOSES_ICD onto the export contract."""

from pathlib import Path

from lang1core.export.mimic3 import convert_mimic3
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
convert_mimic3(sm.params.dir, Path(sm.output.report).parent)
