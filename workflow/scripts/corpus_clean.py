"""Apply the study's cleaning rules to the extracted notes; count every drop."""

from lang1core.corpus.clean import clean_notes
from lang1core.corpus.io import write_json
from lang1core.logs import setup_logging
from lang1core.private_files import config_modes
from lang1core.provenance import provenance

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
stats = clean_notes(sm.input.notes, sm.output.clean, sm.output.dropped, min_words=sm.params.min_words,
                    placeholders=sm.params.placeholders, dedupe=sm.params.dedupe,
                    modes=config_modes(sm.config))  # note text: owner-only
write_json(sm.output.stats, stats, provenance(sm.config, sm.config["seed"], notes=sm.input.notes))
