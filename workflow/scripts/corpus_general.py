"""Read, clean and write the general-text sources (the embedded default: stdlib docs)."""

from lang1core.corpus.general import build_general
from lang1core.corpus.io import write_json
from lang1core.logs import setup_logging
from lang1core.provenance import provenance

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
stats = build_general(sm.params.sources, sm.output.general, min_words=sm.params.min_words,
                      max_documents=sm.params.max_documents, text_field=sm.params.text_field)
write_json(sm.output.stats, stats, provenance(sm.config, sm.config["seed"]))
