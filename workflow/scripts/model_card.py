"""Rule model_card: the audited model as a Hugging Face directory with its full model card."""

from lang1core.audit.card import card_sections
from lang1core.logs import setup_logging
from lang1core.model.convert import convert

sm = snakemake  # noqa: F821
setup_logging(sm.log[0])
card = card_sections(name=sm.params.name, mix_stats=sm.input.mix_stats, metrics=list(sm.input.metrics),
                     audit=sm.input.audit, split=sm.params.split)
convert(sm.params.model_dir, sm.output[0], card=card)
