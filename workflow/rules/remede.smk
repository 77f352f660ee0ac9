# Stage: remede. The five ReMedE tasks (docs/study.md#tasks-and-labels) as multiple-choice
# examples about one note, with time-based splits, the reading-comprehension probe, the study's Tables B1-B7 and
# lm-evaluation-harness task files. Reads only R/validated/.

from lang1core.remede.config import BuildConfig
from lang1core.remede.tasks import SPLITS as REMEDE_SPLITS

# The tasks' settings as the build script makes them (BuildConfig holds the study's defaults).
REMEDE = BuildConfig.from_dict(
    config["remede"], seed=config["seed"], held_out_site=config["held_out_site"]
)
REMEDE_TASKS = list(REMEDE.tasks)
REMEDE_PROBE_SPLITS = list(REMEDE.probe_splits)
REMEDE_LM_EVAL_SPLITS = list(config["remede"]["lm_eval_splits"])
REMEDE_TABLES = ["B1_counts", "B2_demographics"] + [
    "B3_readmission",
    "B4_mortality",
    "B5_los",
    "B6_cci",
    "B7_denial",
]


rule remede_tasks:
    input:
        tables=expand(res("validated", "{table}.parquet"), table=EXPORT_TABLES),
        readiness=res("validated", "readiness.json"),
    output:
        examples=expand(
            res("remede", "{task}", "{split}.parquet"),
            task=REMEDE_TASKS,
            split=REMEDE_SPLITS,
        ),
        probe=expand(
            res("remede", "probe", "{split}.parquet"), split=REMEDE_PROBE_SPLITS
        ),
        manifest=res("remede", "manifest.json"),
    log:
        res("logs", "remede", "remede_tasks.log"),
    benchmark:
        res("benchmarks", "remede", "remede_tasks.tsv")
    conda:
        ENV
    params:
        remede=config["remede"],
        # file_mode and dir_mode of the task files, which hold note text.
        export=config["export"],
        seed=config["seed"],
        held_out_site=config["held_out_site"],
    script:
        "../scripts/remede_tasks.py"


rule remede_tables:
    input:
        examples=rules.remede_tasks.output.examples,
        manifest=res("remede", "manifest.json"),
    output:
        csv=expand(res("remede", "stats", "{table}.csv"), table=REMEDE_TABLES),
        md=expand(res("remede", "stats", "{table}.md"), table=REMEDE_TABLES),
    log:
        res("logs", "remede", "remede_tables.log"),
    conda:
        ENV
    script:
        "../scripts/remede_tables.py"


rule remede_lm_eval:
    input:
        manifest=res("remede", "manifest.json"),
    output:
        utils=res("remede", "lm_eval", "utils.py"),
        group=res("remede", "lm_eval", "remede.yaml"),
        tasks=expand(
            res("remede", "lm_eval", "remede_{task}_{split}.yaml"),
            task=REMEDE_TASKS,
            split=REMEDE_LM_EVAL_SPLITS,
        ),
        probe=expand(
            res("remede", "lm_eval", "remede_probe_{split}.yaml"),
            split=REMEDE_PROBE_SPLITS,
        ),
    log:
        res("logs", "remede", "remede_lm_eval.log"),
    conda:
        ENV
    params:
        tasks=REMEDE_TASKS,
        splits=REMEDE_LM_EVAL_SPLITS,
        probe_splits=REMEDE_PROBE_SPLITS,
        # lm-eval keeps the same first note tokens as the scorer.
        max_note_tokens=config["finetune"]["max_note_tokens"],
    script:
        "../scripts/remede_lm_eval.py"


TARGETS += [
    res("remede", "manifest.json"),
    *rules.remede_tables.output.csv,
    res("remede", "lm_eval", "remede.yaml"),
]
