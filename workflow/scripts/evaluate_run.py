"""Rule evaluate: score one (model, recipe) run's predictions into metrics/{model}/{recipe}.json."""

from lang1core.evaluate.metrics import EvalSettings
from lang1core.evaluate.run import evaluate_run
from lang1core.logs import setup_logging

sm = snakemake  # noqa: F821 - snakemake injects this object
setup_logging(sm.log[0])
evaluate_run(
    predictions=list(sm.input.predictions),
    remede=list(sm.input.remede),
    run_json=sm.input.run,
    out=sm.output.metrics,
    settings=EvalSettings(**sm.params.evaluate),
    seed=sm.params.seed,
    config=sm.config,  # whole config for provenance; not a param, so unrelated keys rerun nothing
    oracle=sm.input.get("oracle"),
    model=sm.wildcards.model,
    recipe=sm.wildcards.recipe,
)
