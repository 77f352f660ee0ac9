"""Rule claims: the study's claims judged from tables/ and the predictions -> claims.md, tables/claims.csv."""

from lang1core.evaluate.claims import ClaimSettings
from lang1core.evaluate.claims_report import write_claims
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821 - snakemake injects this object
setup_logging(sm.log[0])
write_claims(
    runs=sm.input.runs,
    auroc=sm.input.auroc,
    predictions=list(sm.input.predictions),
    remede=list(sm.input.remede),
    oracle=sm.input.get("oracle"),
    settings=ClaimSettings(**sm.params.settings),
    seed=sm.params.seed,
    tasks=list(sm.params.tasks),
    out_csv=sm.output.table,
    out_md=sm.output.markdown,
    config=sm.config,  # whole config for provenance; not a param, so unrelated keys rerun nothing
    source=sm.params.source,
)
