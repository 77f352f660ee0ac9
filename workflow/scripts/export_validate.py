"""Validate the configured export; write typed tables, rejected rows and report.json."""

import logging
from pathlib import Path

from lang1core.export import ExportSchemaError, format_summary, validate_export
from lang1core.logs import setup_logging
from lang1core.provenance import provenance

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
log = logging.getLogger("lang1core.export")
try:
    report = validate_export(
        sm.params.dir,
        Path(sm.output.report).parent,
        fmt=sm.params.format,
        max_reject_rate=sm.params.max_reject_rate,
        provenance=provenance(sm.config, sm.config["seed"]),
    )
except ExportSchemaError as e:
    log.error("%s", e)  # the log names every missing table and column, not just the traceback
    raise
log.info("summary\n%s", format_summary(report))
if not report["ok"]:
    raise SystemExit("export validation failed: " + "; ".join(report["failures"]))
