# Stage: finetune (helpers). The experiment's prediction runs (PREDICTION_RUNS), the paths
# evaluate.smk reads (prediction_files, prediction_run_json) and the input functions of
# finetune.smk's rules; kept apart from the rules, as the linter asks.

import re

FT = config["finetune"]
FT_TASKS = REMEDE_TASKS
# Tasks with runs of their own (single-task, data-efficiency, TF-IDF); null: all of them.
FT_OWN_TASKS = [t for t in (FT["tasks"] or FT_TASKS) if t in FT_TASKS]
FT_SPLITS = list(FT["predict_splits"])
# The reading-comprehension probe (Fig. 3a), answered in zero-shot and trajectory runs.
FT_PROBE_SPLITS = list(REMEDE_PROBE_SPLITS) if FT["probe"] else []
FT_HF = dict(FT["hf_models"])
FT_SNAPSHOTS = [
    f"{m}-s{i}"
    for m in FT["snapshot_models"]
    if m in PRETRAIN_MODELS
    for i in range(1, PRETRAIN["n_snapshots"] + 1)
]
# Every name a base model may have: pretrained, snapshots, imported, random init.
FT_MODELS = PRETRAIN_MODELS + FT_SNAPSHOTS + list(FT_HF) + ["scratch"]


def ft_base(wildcards):
    """Input directory of a base model name (nothing for scratch: random init)."""
    name = wildcards.model
    if name in FT_HF:
        return FT_HF[name]
    m = re.fullmatch(r"(.+)-s(\d+)", name)
    if name in FT_SNAPSHOTS and m:
        return res("pretrain", m.group(1), "snapshots", m.group(2))
    if name in PRETRAIN_MODELS:
        return res("pretrain", name, "final")
    return []


def ft_tokenizer(wildcards):
    return res("tokenizer", "spm.model") if wildcards.model == "scratch" else []


def ft_remede(tasks, splits):
    return expand(res("remede", "{task}", "{split}.parquet"), task=tasks, split=splits)


def ft_kind(model, kind):
    return "scratch" if model == "scratch" and kind == "finetune" else kind


def ft_outputs(tasks, recipe="{recipe}"):
    """Prediction files of every task and split; `recipe` a wildcard or a literal."""
    return [
        res("predictions", "{model}", recipe, t, f"{s}.parquet")
        for t in tasks
        for s in FT_SPLITS
    ]


# The runs of the experiment: (model, recipe, kind, tasks predicted).
PREDICTION_RUNS = []
for _m in FT["zeroshot_models"] + list(FT_HF):
    PREDICTION_RUNS.append(
        dict(model=_m, recipe="zeroshot", kind="zeroshot", probe_splits=FT_PROBE_SPLITS)
    )
    if FT["k_shot"] > 0:
        PREDICTION_RUNS.append(dict(model=_m, recipe="kshot", kind="kshot"))
for _m in FT_SNAPSHOTS:
    PREDICTION_RUNS.append(
        dict(
            model=_m, recipe="zeroshot", kind="trajectory", probe_splits=FT_PROBE_SPLITS
        )
    )
for _m in FT["task_models"]:
    for _t in FT_OWN_TASKS:
        PREDICTION_RUNS.append(dict(model=_m, recipe=_t, kind=ft_kind(_m, "finetune")))
for _m in FT["joint_models"]:
    PREDICTION_RUNS.append(dict(model=_m, recipe="joint", kind="joint"))
for _m in FT["efficiency_models"]:
    for _t in FT_OWN_TASKS:
        for _n in FT["efficiency_sizes"]:
            PREDICTION_RUNS.append(
                dict(model=_m, recipe=f"{_t}-n{_n}", kind="efficiency", tasks=[_t])
            )
if FT["tfidf"]:
    for _t in FT_OWN_TASKS:
        PREDICTION_RUNS.append(dict(model="tfidf", recipe=_t, kind="tfidf", tasks=[_t]))
for _run in PREDICTION_RUNS:
    _run.setdefault("tasks", list(FT_TASKS))
    _run["splits"] = list(FT_SPLITS)


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


FT_RESOURCES = dict(
    gpu=FT["gpus"],
    cpus_per_task=FT["threads"],
    mem_mb=FT["mem_mb"],
    runtime=FT["runtime"],
)
