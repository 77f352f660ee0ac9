# Shared by every stage: config validation, wildcard constraints, the target list and every
# results path a rule reads that another stage writes (res() and the input functions below).

import re
from pathlib import Path

from snakemake.exceptions import WorkflowError

from lang1core.audit import names as audit_names
from lang1core.contracts import SCRATCH, parse_snapshot
from lang1core.corpus.mix import CLINICAL
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


# --- corpus and tokenizer: what a mix and the tokenizer read ---


def mix_inputs(mix):
    """Files a mix reads: clean notes if it uses `clinical`, general text if it uses others."""
    weights = config["corpus"]["mixes"][mix]
    inputs = {"encounters": res("validated", "encounters.parquet")}
    if CLINICAL in weights:
        inputs["clean"] = res("corpus", "clean.parquet")
    if any(s != CLINICAL for s in weights):
        inputs["general"] = res("corpus", "general.parquet")
    return inputs


def tokenizer_inputs():
    """The existing model to copy, or the training documents of `train_mix`."""
    tok, mixes = config["tokenizer"], config["corpus"]["mixes"]
    if tok["model"]:
        return {"existing": tok["model"]}
    if tok["train_mix"] not in mixes:
        raise WorkflowError(
            f"tokenizer.train_mix {tok['train_mix']!r} is not a mix in corpus.mixes "
            f"({sorted(mixes)})"
        )
    return {"train": res("corpus", "pretrain", tok["train_mix"], "train.parquet")}


# --- finetune: a base model's files and a prediction run's (runs: finetune_runs.smk) ---


def ft_base(wildcards):
    """Input directory of a base model name (nothing for scratch: random init)."""
    name = wildcards.model
    if name in FT_HF:
        return FT_HF[name]
    if name in FT_SNAPSHOTS:
        model, i = parse_snapshot(name)
        return res("pretrain", model, "snapshots", str(i))
    if name in PRETRAIN_MODELS:
        return res("pretrain", name, "final")
    return []


def ft_tokenizer(wildcards):
    return res("tokenizer", "spm.model") if wildcards.model == SCRATCH else []


def ft_remede(tasks, splits):
    return expand(res("remede", "{task}", "{split}.parquet"), task=tasks, split=splits)


def ft_outputs(tasks, recipe="{recipe}"):
    """Prediction files of every task and split; `recipe` a wildcard or a literal."""
    return [
        res("predictions", "{model}", recipe, t, f"{s}.parquet")
        for t in tasks
        for s in FT_SPLITS
    ]


def prediction_files(model, recipe):
    """The prediction parquet files of one run (evaluate.smk's input); zero-shot runs add
    task `probe` for its splits."""
    for run in PREDICTION_RUNS:
        if run["model"] == model and run["recipe"] == recipe:
            files = expand(
                res("predictions", model, recipe, "{task}", "{split}.parquet"),
                task=run["tasks"],
                split=run["splits"],
            )
            return files + [
                res("predictions", model, recipe, "probe", f"{s}.parquet")
                for s in run.get("probe_splits", [])
            ]
    raise ValueError(f"no prediction run {model}/{recipe} in PREDICTION_RUNS")


def prediction_run_json(model, recipe):
    return res("predictions", model, recipe, "run.json")


# --- audit: an audited model's files (names: lang1core/audit/names.py) ---


def audit_share_dir(name):
    """share/{model}/pretrained or share/{model}/{recipe}: the model with its card."""
    base, _, recipe = name.partition("/")
    return res("share", base, recipe or audit_names.PRETRAINED)


def audit_model_dir(name):
    base, _, recipe = name.partition("/")
    return (
        res("finetune", base, recipe, "checkpoint")
        if recipe
        else res("pretrain", base, "final")
    )


def audit_reference_dir(name):
    """The reference model's final directory; None when there is none or it is the model itself."""
    ref = config["audit"]["reference_model"]
    if ref is None or name == ref:
        return None
    if ref not in config["pretrain"]["models"]:
        raise WorkflowError(
            f"audit.reference_model {ref!r} is not a model of pretrain.models"
        )
    return res("pretrain", ref, "final")


def audit_inputs(name):
    """Files the audit of `name` reads (a finetuned run's run.json stands for its checkpoint,
    which is not a rule output)."""
    base, _, recipe = name.partition("/")
    mix = audit_names.mix_of(name, config)
    out = {
        "train": res("corpus", "pretrain", mix, "train.parquet"),
        "mix_stats": res("corpus", "pretrain", mix, "mix_stats.json"),
        "clean": res("corpus", "clean.parquet"),
        "patients": res("validated", "patients.parquet"),
    }
    out["model"] = (
        prediction_run_json(base, recipe) if recipe else audit_model_dir(name)
    )
    ref = audit_reference_dir(name)
    if ref:
        out["reference"] = ref
    return out


def audit_card_metrics(name, evaluated):
    """Metrics files the card's evaluation table reads: the finetuned run's own, or a
    pretrained model's zero-shot run (when the experiment evaluates them)."""
    base, _, recipe = name.partition("/")
    key = (base, recipe or "zeroshot")
    return [res("metrics", key[0], f"{key[1]}.json")] if key in evaluated else []


# --- evaluate: a run's inputs (EVAL, EVAL_RUN_KEYS are set in evaluate.smk) ---


def run_prediction_files(model, recipe):
    """A run's prediction files of the evaluated splits (predictions/{model}/{recipe}/{task}/{split}.parquet)."""
    run = EVAL_RUN_KEYS.get((model, recipe))
    if run is None:
        raise WorkflowError(
            f"metrics/{model}/{recipe}.json: no such run in PREDICTION_RUNS "
            f"(known: {sorted(EVAL_RUN_KEYS)})"
        )
    files = [str(f) for f in prediction_files(model, recipe)]
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
        "run": prediction_run_json(wildcards.model, wildcards.recipe),
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
