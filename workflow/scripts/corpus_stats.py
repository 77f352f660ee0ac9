"""Appendix-G statistics of the cleaned clinical corpus (notes, words, tokens by dimension)."""

from pathlib import Path

from lang1core.corpus.stats import corpus_stats, format_stats
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
table = corpus_stats(sm.input.clean, sm.input.tokenizer, threads=sm.threads)
table.write_csv(sm.output.table)
Path(sm.output.markdown).write_text("# Clinical corpus (cleaned)\n\n" + format_stats(table))
