# Shared by every stage: config validation, wildcard constraints and the target list.

import re
from pathlib import Path

from snakemake.exceptions import WorkflowError

from lang1core.export.contract import TABLE_ORDER
from lang1core.export.reading import ExportSchemaError, find_table_file
from lang1core.settings import ConfigError, check_config

# Validated, with every schema default filled in (also inside each stage's section), exactly
# as `lang1 ... --config` reads it: rules read keys directly, without fallbacks of their own.
try:
    check_config(
        config, "the workflow config", Path(workflow.basedir, "workflow", "schemas")
    )
except ConfigError as err:
    raise WorkflowError(str(err)) from None

# Every path the workflow writes lives under this root.
R = config["results"]


def res(*parts):
    """Path under the results root."""
    return str(Path(R, *parts))


def _alt(names):
    """A wildcard constraint matching exactly one of `names` (nothing when there are none)."""
    return "|".join(re.escape(n) for n in names) or "^$"


# Each stage's .smk appends the files that `rule all` should build.
TARGETS = []

# Every rule runs in the project's environment (`--use-conda` builds it on a cluster).
ENV = "../../environment.yml"


# --- export: which files the configured source validates ---

EXPORT_TABLES = list(TABLE_ORDER)
MIMIC3_FILES = ["NOTEEVENTS", "ADMISSIONS", "PATIENTS", "DIAGNOSES_ICD"]


def export_folder():
    """The folder validated for the configured source."""
    if config["source"] == "synthetic":
        return res("export")
    if config["source"] == "mimic3":
        return res("mimic3_export")
    folder = config.get("export", {}).get("dir")
    if not folder:
        raise WorkflowError(
            "source: export needs export.dir, the folder holding the export's five tables"
        )
    return folder


def export_files(wildcards):
    """The export's table files, so that a changed export is validated again."""
    if config["source"] == "synthetic":
        return expand(res("export", "{table}.csv"), table=EXPORT_TABLES)
    if config["source"] == "mimic3":
        return expand(res("mimic3_export", "{table}.parquet"), table=EXPORT_TABLES)
    files = []
    for table in EXPORT_TABLES:
        try:
            files.append(
                str(find_table_file(export_folder(), table, config["export"]["format"]))
            )
        except ExportSchemaError:
            pass  # the rule itself fails, naming every missing table and column at once
    return files


def mimic3_files(wildcards):
    folder = config.get("mimic3", {}).get("dir")
    if not folder:
        raise WorkflowError(
            "source: mimic3 needs mimic3.dir, the folder holding MIMIC-III's CSV files"
        )
    found = []
    for name in MIMIC3_FILES:
        for stem in (name, name.lower()):
            found += [
                str(p)
                for p in (Path(folder) / f"{stem}.csv", Path(folder) / f"{stem}.csv.gz")
                if p.is_file()
            ]
    return found


# --- evaluate: a run's inputs (EVAL, EVAL_RUN_KEYS are set in evaluate.smk) ---


def run_prediction_files(model, recipe):
    """A run's prediction files of the evaluated splits (predictions/{model}/{recipe}/{task}/{split}.parquet)."""
    run = EVAL_RUN_KEYS.get((model, recipe))
    if run is None:
        raise WorkflowError(
            f"metrics/{model}/{recipe}.json: no such run in PREDICTION_RUNS "
            f"(known: {sorted(EVAL_RUN_KEYS)})"
        )
    lister = globals().get("prediction_files")
    if lister is not None:
        files = [str(f) for f in lister(model, recipe)]
    else:
        files = [
            res("predictions", run["model"], run["recipe"], t, f"{s}.parquet")
            for t in run["tasks"]
            for s in run["splits"]
        ]
    return [
        f for f in files if f.endswith(".parquet") and Path(f).stem in EVAL["splits"]
    ]


def eval_prediction_files(wildcards):
    return run_prediction_files(wildcards.model, wildcards.recipe)


def remede_of(predictions):
    """The ReMedE example file behind each prediction file."""
    return [res("remede", Path(f).parent.name, Path(f).name) for f in predictions]


def eval_inputs(wildcards):
    preds = eval_prediction_files(wildcards)
    inputs = {
        "predictions": preds,
        "remede": remede_of(preds),
        "run": res("predictions", wildcards.model, wildcards.recipe, "run.json"),
    }
    if config["source"] == "synthetic":
        inputs["oracle"] = res("oracle", "oracle.parquet")
    return inputs


# --- claims: the runs and splits the claims report compares (CLAIMS is set in evaluate.smk) ---


def claims_inputs(wildcards):
    splits = {CLAIMS.split, CLAIMS.internal_split, "external", *CLAIMS.periods}
    preds = [
        f
        for (model, recipe), run in sorted(EVAL_RUN_KEYS.items())
        if run.get("kind") not in CLAIMS_UNUSED_KINDS
        for f in run_prediction_files(model, recipe)
        if Path(f).stem in splits and Path(f).parent.name != "probe"
    ]
    inputs = {
        "runs": res("tables", "runs.csv"),
        "auroc": res("tables", "auroc.csv"),
        "predictions": preds,
        "remede": sorted(set(remede_of(preds))),
    }
    if config["source"] == "synthetic":
        inputs["oracle"] = res("oracle", "oracle.parquet")
    return inputs
