# Stage: finetune (settings). The experiment's prediction runs (PREDICTION_RUNS) and the
# base-model names finetune.smk's rules accept; their paths are common.smk's (prediction_files,
# ft_base, ...). Kept apart from the rules, as the linter asks.

from lang1core.contracts import SCRATCH, snapshot_name

FT = config["finetune"]
FT_TASKS = REMEDE_TASKS
# Tasks with runs of their own (single-task, data-efficiency, TF-IDF); null: all of them.
FT_OWN_TASKS = [t for t in (FT["tasks"] or FT_TASKS) if t in FT_TASKS]
FT_SPLITS = list(FT["predict_splits"])
# The reading-comprehension probe (Fig. 3a), answered in zero-shot and trajectory runs.
FT_PROBE_SPLITS = list(REMEDE_PROBE_SPLITS) if FT["probe"] else []
FT_HF = dict(FT["hf_models"])
FT_SNAPSHOTS = [
    snapshot_name(m, i)
    for m in FT["snapshot_models"]
    if m in PRETRAIN_MODELS
    for i in range(1, PRETRAIN["n_snapshots"] + 1)
]
# Every name a base model may have: pretrained, snapshots, imported, random init.
FT_MODELS = PRETRAIN_MODELS + FT_SNAPSHOTS + list(FT_HF) + [SCRATCH]


def ft_kind(model, kind):
    return SCRATCH if model == SCRATCH and kind == "finetune" else kind


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


FT_RESOURCES = dict(
    gpu=FT["gpus"],
    cpus_per_task=FT["threads"],
    mem_mb=FT["mem_mb"],
    runtime=FT["runtime"],
)
