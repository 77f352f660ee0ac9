"""Train the SentencePiece BPE tokenizer on a sample of a mix, or install an existing model."""

from lang1core.corpus.io import write_json
from lang1core.corpus.tokenizer import sample_lines, train_tokenizer, use_existing
from lang1core.logs import setup_logging
from lang1core.provenance import provenance

sm = snakemake  # noqa: F821 (snakemake injects this object)
setup_logging(sm.log[0])
p = sm.params
if p.existing:
    info = use_existing(p.existing, sm.output.model)
else:
    lines = sample_lines(sm.input.train, p.weights, p.sample_chars, p.seed)
    info = train_tokenizer(lines, sm.output.model, p.vocab_size, threads=sm.threads, seed=p.seed)
    info["train_mix"] = p.train_mix
write_json(sm.output.info, info, provenance(sm.config, p.seed))
