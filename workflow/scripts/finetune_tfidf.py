"""Rule finetune_tfidf: the TF-IDF + logistic regression baseline of one task."""

import os

from lang1core.finetune.runs import run_tfidf
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821 - snakemake injects this object
# R/remede/{task}/{split}.parquet -> R/remede
remede_dir = os.path.dirname(os.path.dirname(sm.input.remede[0]))
setup_logging(sm.log[0])
s = sm.params.settings
run_tfidf(
    task=sm.wildcards.task, remede_dir=remede_dir, splits=list(sm.params.splits),
    out_dir=os.path.dirname(sm.output.run), config=dict(s), seed=sm.params.seed,
    max_features=s["tfidf_max_features"], max_examples=s.get("max_predict_examples"),
    full_splits=tuple(s.get("full_splits") or ()),
)
