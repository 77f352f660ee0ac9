"""Per configured task: eligible examples, whether labels can be derived, note types and
sites; a site export that would leave a task empty fails here, naming the cause."""

import logging
from pathlib import Path

from lang1core.logs import setup_logging
from lang1core.publish import write_json
from lang1core.remede.config import BuildConfig
from lang1core.remede.readiness import format_readiness, readiness

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
log = logging.getLogger("lang1core.export")
cfg = BuildConfig.from_dict(sm.params.remede, seed=sm.params.seed, held_out_site=sm.params.held_out_site)
report = readiness(Path(sm.input.tables[0]).parent, cfg)
log.info("%s", format_readiness(report))
for e in report["errors"]:
    (log.error if sm.params.require_ready else log.warning)("readiness: %s", e)
if report["errors"] and sm.params.require_ready:
    raise SystemExit("export not ready: " + "; ".join(report["errors"]))
write_json(sm.output[0], report, default=str)
