"""Appendix-G statistics of the cleaned clinical corpus (notes, words, tokens by dimension)."""

from lang1core.corpus.stats import corpus_stats, format_stats
from lang1core.logs import setup_logging
from lang1core.publish import published_file, write_text

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
table = corpus_stats(sm.input.clean, sm.input.tokenizer, threads=sm.threads)
with published_file(sm.output.table) as tmp:
    table.write_csv(tmp)
write_text(sm.output.markdown, "# Clinical corpus (cleaned)\n\n" + format_stats(table))
