"""Rule audit_figure: the audit's figure, from its JSON."""

import json
from pathlib import Path

from lang1core.audit.figure import draw
from lang1core.figures.style import style_from_config
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
draw(json.loads(Path(sm.input[0]).read_text()), [sm.output[0]], style_from_config(sm.params.style),
     note=sm.params.note)
