# Stage: finetune. Zero-shot, k-shot and finetuned ReMedE predictions for every base model
# (DESIGN §5, issue 7). Each run writes R/predictions/{model}/{recipe}/{task}/{split}.parquet
# and run.json; finetuning runs keep search.csv, search.db (the resumable Optuna study),
# curve.csv and checkpoint/ in R/finetune/{model}/{recipe}/ (not outputs, so a killed search
# is not deleted and resumes).

import re

FT = config["finetune"]
FT_TASKS = REMEDE_TASKS
# Tasks with runs of their own (single-task, data-efficiency, TF-IDF); null: all of them.
FT_OWN_TASKS = [t for t in (FT.get("tasks") or FT_TASKS) if t in FT_TASKS]
FT_SPLITS = list(FT["predict_splits"])
FT_HF = dict(FT.get("hf_models") or {})
FT_SNAPSHOTS = [
    f"{m}-s{i}"
    for m in FT["snapshot_models"]
    if m in PRETRAIN_MODELS
    for i in range(1, PRETRAIN["n_snapshots"] + 1)
]
# Every name a base model may have: pretrained, snapshots, imported, random init.
FT_MODELS = PRETRAIN_MODELS + FT_SNAPSHOTS + list(FT_HF) + ["scratch"]


def _alt(names):
    return "|".join(re.escape(n) for n in names) or "^$"


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


def ft_outputs(tasks):
    return expand(
        res("predictions", "{{model}}", "{{recipe}}", "{task}", "{split}.parquet"),
        task=tasks,
        split=FT_SPLITS,
    )


# The runs of the experiment: (model, recipe, kind, tasks predicted).
PREDICTION_RUNS = []
for _m in FT["zeroshot_models"] + list(FT_HF):
    PREDICTION_RUNS.append(dict(model=_m, recipe="zeroshot", kind="zeroshot"))
    if FT["k_shot"] > 0:
        PREDICTION_RUNS.append(dict(model=_m, recipe="kshot", kind="kshot"))
for _m in FT_SNAPSHOTS:
    PREDICTION_RUNS.append(dict(model=_m, recipe="zeroshot", kind="trajectory"))
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
    """The prediction parquet files of one run (evaluate.smk's input)."""
    for run in PREDICTION_RUNS:
        if run["model"] == model and run["recipe"] == recipe:
            return expand(
                res("predictions", model, recipe, "{task}", "{split}.parquet"),
                task=run["tasks"],
                split=run["splits"],
            )
    raise ValueError(f"no prediction run {model}/{recipe} in PREDICTION_RUNS")


def prediction_run_json(model, recipe):
    return res("predictions", model, recipe, "run.json")


FT_RESOURCES = dict(
    gpu=FT["gpus"],
    cpus_per_task=FT["threads"],
    mem_mb=FT["mem_mb"],
    runtime=FT["runtime"],
)


rule finetune_prompted:
    input:
        base=ft_base,
        remede=ft_remede(FT_TASKS, sorted(set(FT_SPLITS) | {"train"})),
    output:
        predictions=ft_outputs(FT_TASKS),
        run=res("predictions", "{model}", "{recipe}", "run.json"),
    log:
        res("logs", "finetune", "{model}", "{recipe}.log"),
    benchmark:
        res("benchmarks", "finetune", "{model}", "{recipe}.tsv")
    wildcard_constraints:
        model=_alt(PRETRAIN_MODELS + FT_SNAPSHOTS + list(FT_HF)),
        recipe="zeroshot|kshot",
    threads: FT["threads"]
    resources:
        **FT_RESOURCES,
    params:
        kind=lambda wc: (
            "trajectory"
            if wc.model in FT_SNAPSHOTS
            else ("kshot" if wc.recipe == "kshot" else "zeroshot")
        ),
        remede_dir=res("remede"),
        tasks=FT_TASKS,
        splits=FT_SPLITS,
        settings=FT,
        seed=config["seed"],
    script:
        "../scripts/finetune_prompted.py"


rule finetune_train:
    input:
        base=ft_base,
        tokenizer=ft_tokenizer,
        remede=ft_remede(FT_TASKS, sorted(set(FT_SPLITS) | {"train", "val"})),
    output:
        predictions=ft_outputs(FT_TASKS),
        run=res("predictions", "{model}", "{recipe}", "run.json"),
        search=res("finetune", "{model}", "{recipe}", "search.csv"),
        curve=res("finetune", "{model}", "{recipe}", "curve.csv"),
    log:
        res("logs", "finetune", "{model}", "{recipe}.log"),
    benchmark:
        res("benchmarks", "finetune", "{model}", "{recipe}.tsv")
    wildcard_constraints:
        model=_alt(FT_MODELS),
        recipe=_alt(FT_TASKS + ["joint"]),
    threads: FT["threads"]
    resources:
        **FT_RESOURCES,
    params:
        kind=lambda wc: ft_kind(
            wc.model, "joint" if wc.recipe == "joint" else "finetune"
        ),
        train_tasks=lambda wc: FT_TASKS if wc.recipe == "joint" else [wc.recipe],
        predict_tasks=FT_TASKS,
        n_train=None,
        remede_dir=res("remede"),
        work_dir=lambda wc: res("finetune", wc.model, wc.recipe),
        splits=FT_SPLITS,
        settings=FT,
        model_section=config.get("model", {}),
        seed=config["seed"],
    script:
        "../scripts/finetune_train.py"


use rule finetune_train as finetune_efficiency with:
    input:
        base=ft_base,
        tokenizer=ft_tokenizer,
        remede=lambda wc: ft_remede(
            [wc.task], sorted(set(FT_SPLITS) | {"train", "val"})
        ),
    output:
        predictions=expand(
            res(
                "predictions",
                "{{model}}",
                "{{task}}-n{{n}}",
                "{{task}}",
                "{split}.parquet",
            ),
            split=FT_SPLITS,
        ),
        run=res("predictions", "{model}", "{task}-n{n}", "run.json"),
        search=res("finetune", "{model}", "{task}-n{n}", "search.csv"),
        curve=res("finetune", "{model}", "{task}-n{n}", "curve.csv"),
    log:
        res("logs", "finetune", "{model}", "{task}-n{n}.log"),
    benchmark:
        res("benchmarks", "finetune", "{model}", "{task}-n{n}.tsv")
    wildcard_constraints:
        model=_alt(FT_MODELS),
        task=_alt(FT_TASKS),
        n=r"\d+",
    params:
        kind="efficiency",
        train_tasks=lambda wc: [wc.task],
        predict_tasks=lambda wc: [wc.task],
        n_train=lambda wc: int(wc.n),
        remede_dir=res("remede"),
        work_dir=lambda wc: res("finetune", wc.model, f"{wc.task}-n{wc.n}"),
        splits=FT_SPLITS,
        settings=FT,
        model_section=config.get("model", {}),
        seed=config["seed"],


rule finetune_tfidf:
    input:
        remede=lambda wc: ft_remede(
            [wc.task], sorted(set(FT_SPLITS) | {"train", "val"})
        ),
    output:
        predictions=expand(
            res("predictions", "tfidf", "{{task}}", "{{task}}", "{split}.parquet"),
            split=FT_SPLITS,
        ),
        run=res("predictions", "tfidf", "{task}", "run.json"),
    log:
        res("logs", "finetune", "tfidf", "{task}.log"),
    wildcard_constraints:
        task=_alt(FT_TASKS),
    params:
        remede_dir=res("remede"),
        splits=FT_SPLITS,
        settings=FT,
        seed=config["seed"],
    script:
        "../scripts/finetune_tfidf.py"


TARGETS += [prediction_run_json(r["model"], r["recipe"]) for r in PREDICTION_RUNS]
