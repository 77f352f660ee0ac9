# Stage: evaluate (issue 8). Predictions -> one metrics JSON per (model, recipe) -> tables.
# Runs come from finetune.smk's PREDICTION_RUNS / prediction_files(); until that stage is in
# the workflow there are none, and `tables` writes empty tables (headers only) that the
# figures draw as "not run".

from snakemake.exceptions import WorkflowError

from lang1core.remede.tasks import SPLITS as EVAL_SPLITS_ALL

EVAL = config["evaluate"]
EVAL_RUNS = globals().get("PREDICTION_RUNS", [])
EVAL_RUN_KEYS = {(r["model"], r["recipe"]): r for r in EVAL_RUNS}
REMEDE_MANIFEST = res("remede", "manifest.json")
# ReMedE's files are produced by its rules, or (a site's own run, a test) already on disk.
REMEDE_READY = Path(REMEDE_MANIFEST).exists() or any(
    str(out) == REMEDE_MANIFEST for r in workflow.rules for out in r.output
)


def eval_prediction_files(wildcards):
    """The run's prediction files of the evaluated splits (predictions/{model}/{recipe}/{task}/{split}.parquet)."""
    run = EVAL_RUN_KEYS.get((wildcards.model, wildcards.recipe))
    if run is None:
        raise WorkflowError(
            f"metrics/{wildcards.model}/{wildcards.recipe}.json: no such run in PREDICTION_RUNS "
            f"(known: {sorted(EVAL_RUN_KEYS)})"
        )
    lister = globals().get("prediction_files")
    if lister is not None:
        files = [str(f) for f in lister(wildcards.model, wildcards.recipe)]
    else:
        files = [
            res("predictions", run["model"], run["recipe"], t, f"{s}.parquet")
            for t in run["tasks"]
            for s in run["splits"]
        ]
    return [
        f for f in files if f.endswith(".parquet") and Path(f).stem in EVAL["splits"]
    ]


def eval_inputs(wildcards):
    preds = eval_prediction_files(wildcards)
    inputs = {
        "predictions": preds,
        "remede": [res("remede", Path(f).parent.name, Path(f).name) for f in preds],
        "run": res("predictions", wildcards.model, wildcards.recipe, "run.json"),
    }
    if config["source"] == "synthetic":
        inputs["oracle"] = res("oracle", "oracle.parquet")
    return inputs


rule evaluate:
    input:
        unpack(eval_inputs),
    output:
        metrics=res("metrics", "{model}", "{recipe}.json"),
    conda:
        ENV
    log:
        res("logs", "evaluate", "{model}", "{recipe}.log"),
    benchmark:
        res("benchmarks", "evaluate", "{model}", "{recipe}.tsv")
    wildcard_constraints:
        model="[^/]+",
        recipe="[^/]+",
    params:
        evaluate=EVAL,
        seed=config["seed"],
        config=config,
    script:
        "../scripts/evaluate_run.py"


rule tables:
    input:
        metrics=[res("metrics", m, f"{r}.json") for (m, r) in sorted(EVAL_RUN_KEYS)],
    output:
        runs=res("tables", "runs.csv"),
        auroc=res("tables", "auroc.csv"),
        calibration=res("tables", "calibration.csv"),
        strata=res("tables", "strata.csv"),
        alerts=res("tables", "alerts.csv"),
    conda:
        ENV
    log:
        res("logs", "evaluate", "tables.log"),
    script:
        "../scripts/evaluate_tables.py"


TARGETS += [res("tables", "auroc.csv")]

if REMEDE_READY:

    rule conditional_table:
        input:
            mortality=expand(
                res("remede", "mortality", "{split}.parquet"), split=EVAL_SPLITS_ALL
            ),
            los=expand(res("remede", "los", "{split}.parquet"), split=EVAL_SPLITS_ALL),
        output:
            table=res("tables", "conditional.csv"),
        conda:
            ENV
        log:
            res("logs", "evaluate", "conditional_table.log"),
        script:
            "../scripts/evaluate_conditional.py"

    rule dataset_tables:
        input:
            manifest=REMEDE_MANIFEST,
        output:
            index=res("tables", "datasets.json"),
        conda:
            ENV
        log:
            res("logs", "evaluate", "dataset_tables.log"),
        script:
            "../scripts/evaluate_datasets.py"

    TARGETS += [res("tables", "conditional.csv"), res("tables", "datasets.json")]
