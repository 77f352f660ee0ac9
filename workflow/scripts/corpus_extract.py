"""Extract one row per note (multi-part notes joined) from the validated export."""

from pathlib import Path

from lang1core.corpus.extract import extract_notes
from lang1core.corpus.io import write_json
from lang1core.logs import setup_logging
from lang1core.private_files import config_modes
from lang1core.provenance import provenance

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
counts = extract_notes(Path(sm.input.notes).parent, sm.output.notes, sm.output.rejected,
                       modes=config_modes(sm.config))  # note text: owner-only
write_json(sm.output.stats, counts, provenance(sm.config, sm.config["seed"], notes=sm.input.notes))
