# Stage: evaluate (docs/study.md#evaluation). Predictions -> one metrics JSON per
# (model, recipe) -> tables, and the study's claims judged from tables and predictions ->
# claims.md. Runs come from finetune_runs.smk's PREDICTION_RUNS / prediction_files(); with
# none configured, `tables` writes empty tables (headers only) that the figures draw as
# "not run".

from dataclasses import asdict

from lang1core.evaluate.claims import UNUSED_KINDS as CLAIMS_UNUSED_KINDS, ClaimSettings
from lang1core.remede.tasks import SPLITS as EVAL_SPLITS_ALL

EVAL = config["evaluate"]
CLAIMS = ClaimSettings.from_config(config)
EVAL_RUNS = globals().get("PREDICTION_RUNS", [])
EVAL_RUN_KEYS = {(r["model"], r["recipe"]): r for r in EVAL_RUNS}
REMEDE_MANIFEST = res("remede", "manifest.json")
# ReMedE's files come from its rules, or (a site's own run, a test) are already on disk.
REMEDE_READY = Path(REMEDE_MANIFEST).exists() or any(
    str(out) == REMEDE_MANIFEST for r in workflow.rules for out in r.output
)
# Fig F6 needs the mortality and LOS labels of the same encounters (every split).
EVAL_CONDITIONAL_INPUTS = {
    task: (
        [res("remede", task, f"{s}.parquet") for s in EVAL_SPLITS_ALL]
        if REMEDE_READY and {"mortality", "los"} <= set(REMEDE_TASKS)
        else []
    )
    for task in ("mortality", "los")
}
# Dataset tables B1-B7: the names remede.smk declares, else whatever a finished run left.
if not REMEDE_READY:
    EVAL_DATASET_FILES = []
elif "REMEDE_TABLES" in globals():
    EVAL_DATASET_FILES = [f"{t}.{ext}" for t in REMEDE_TABLES for ext in ("csv", "md")]
else:
    EVAL_DATASET_FILES = sorted(
        p.name
        for p in Path(res("remede", "stats")).glob("B*")
        if p.suffix in (".csv", ".md")
    )


rule evaluate:
    input:
        unpack(eval_inputs),
    output:
        metrics=res("metrics", "{model}", "{recipe}.json"),
    log:
        res("logs", "evaluate", "{model}", "{recipe}.log"),
    benchmark:
        res("benchmarks", "evaluate", "{model}", "{recipe}.tsv")
    wildcard_constraints:
        model="[^/]+",
        recipe="[^/]+",
    conda:
        ENV
    params:
        evaluate=EVAL,
        seed=config["seed"],
    script:
        "../scripts/evaluate_run.py"


rule tables:
    input:
        metrics=[res("metrics", m, f"{r}.json") for (m, r) in sorted(EVAL_RUN_KEYS)],
        mortality=EVAL_CONDITIONAL_INPUTS["mortality"],
        los=EVAL_CONDITIONAL_INPUTS["los"],
        datasets=[res("remede", "stats", f) for f in EVAL_DATASET_FILES],
    output:
        runs=res("tables", "runs.csv"),
        auroc=res("tables", "auroc.csv"),
        calibration=res("tables", "calibration.csv"),
        strata=res("tables", "strata.csv"),
        alerts=res("tables", "alerts.csv"),
        conditional=res("tables", "conditional.csv"),
        datasets=[res("tables", f) for f in EVAL_DATASET_FILES],
    log:
        res("logs", "evaluate", "tables.log"),
    conda:
        ENV
    script:
        "../scripts/evaluate_tables.py"


rule claims:
    input:
        unpack(claims_inputs),
    output:
        table=report(
            res("tables", "claims.csv"),
            caption="../report/claims.rst",
            category="Claims",
            labels={"file": "claims.csv", "title": "Claims table"},
        ),
        markdown=report(
            res("claims.md"),
            caption="../report/claims.rst",
            category="Claims",
            labels={"file": "claims.md", "title": "The study's claims"},
        ),
    log:
        res("logs", "evaluate", "claims.log"),
    conda:
        ENV
    params:
        settings=asdict(CLAIMS),
        tasks=REMEDE_TASKS,
        seed=config["seed"],
        source=config["source"],
    script:
        "../scripts/evaluate_claims.py"


TARGETS += [res("tables", "auroc.csv"), res("claims.md"), res("tables", "claims.csv")]
