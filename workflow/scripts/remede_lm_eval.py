"""Write lm-evaluation-harness task files (YAML + utils.py) for the built ReMedE tasks."""

from pathlib import Path

from lang1core.logs import setup_logging
from lang1core.remede.lm_eval_files import write_lm_eval

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
write_lm_eval(
    Path(sm.input.manifest).parent,
    Path(sm.output.utils).parent,
    list(sm.params.tasks),
    list(sm.params.splits),
    probe_splits=list(sm.params.probe_splits),
    max_note_tokens=int(sm.params.max_note_tokens),
)
