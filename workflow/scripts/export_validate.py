"""Validate the configured export; write typed tables, rejected rows and report.json (also
under logs/, so it survives a failed job)."""

import logging
from pathlib import Path

from lang1core.export import ExportSchemaError, format_summary, validate_export
from lang1core.export.mapping import ExportMapping
from lang1core.logs import setup_logging
from lang1core.private_files import DIR_MODE, FILE_MODE, parse_mode
from lang1core.provenance import provenance
from lang1core.publish import write_json

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log.main)
log = logging.getLogger("lang1core.export")
log_report = Path(sm.log.report)
try:
    report = validate_export(
        sm.params.dir,
        Path(sm.output.report).parent,
        fmt=sm.params.format,
        max_reject_rate=sm.params.max_reject_rate,
        provenance=provenance(sm.config, sm.config["seed"]),
        mapping=ExportMapping.from_dict(sm.params.export),
        file_mode=parse_mode(sm.params.export.get("file_mode"), FILE_MODE, "export.file_mode"),
        dir_mode=parse_mode(sm.params.export.get("dir_mode"), DIR_MODE, "export.dir_mode"),
    )
except ExportSchemaError as e:
    log.error("%s", e)  # the log names every missing table and column, not just the traceback
    write_json(log_report, {"export_dir": str(sm.params.dir), "ok": False, "unusable": e.problems})
    raise
write_json(log_report, report)
log.info("summary\n%s", format_summary(report))
if not report["ok"]:
    raise SystemExit("export validation failed: " + "; ".join(report["failures"]))
