"""Rule audit_summary: every audited model's verdict, as markdown (report) and CSV."""

import json
from pathlib import Path

from lang1core.audit.summary import write_summary
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
write_summary([json.loads(Path(f).read_text()) for f in sm.input.json], sm.output.markdown, sm.output.table)
