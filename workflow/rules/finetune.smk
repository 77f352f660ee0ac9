# Stage: finetune. Zero-shot, k-shot and finetuned ReMedE predictions for every base model
# (docs/study.md#finetuning). Each run writes R/predictions/{model}/{recipe}/{task}/{split}.parquet
# and run.json; finetuning runs keep search.csv, search.db (the resumable Optuna study),
# curve.csv and checkpoint/ in R/finetune/{model}/{recipe}/ (not outputs, so a killed search
# is not deleted and resumes).


include: "finetune_runs.smk"


rule finetune_zeroshot:
    input:
        base=ft_base,
        remede=ft_remede(FT_TASKS, sorted(set(FT_SPLITS) | {"train"})),
        probe=expand(res("remede", "probe", "{split}.parquet"), split=FT_PROBE_SPLITS),
    output:
        predictions=ft_outputs(FT_TASKS, "zeroshot"),
        probe=expand(
            res("predictions", "{{model}}", "zeroshot", "probe", "{split}.parquet"),
            split=FT_PROBE_SPLITS,
        ),
        run=res("predictions", "{model}", "zeroshot", "run.json"),
    log:
        res("logs", "finetune", "{model}", "zeroshot.log"),
    benchmark:
        res("benchmarks", "finetune", "{model}", "zeroshot.tsv")
    wildcard_constraints:
        model=_alt(PRETRAIN_MODELS + FT_SNAPSHOTS + list(FT_HF)),
    conda:
        ENV
    threads: FT["threads"]
    resources:
        **FT_RESOURCES,
    params:
        kind=lambda wc: "trajectory" if wc.model in FT_SNAPSHOTS else "zeroshot",
        recipe="zeroshot",
        probe_splits=FT_PROBE_SPLITS,
        tasks=FT_TASKS,
        splits=FT_SPLITS,
        settings=FT,
        seed=config["seed"],
    script:
        "../scripts/finetune_prompted.py"


use rule finetune_zeroshot as finetune_kshot with:
    input:
        base=ft_base,
        remede=ft_remede(FT_TASKS, sorted(set(FT_SPLITS) | {"train"})),
    output:
        predictions=expand(
            res("predictions", "{{model}}", "kshot", "{task}", "{split}.parquet"),
            task=FT_TASKS,
            split=FT_SPLITS,
        ),
        run=res("predictions", "{model}", "kshot", "run.json"),
    log:
        res("logs", "finetune", "{model}", "kshot.log"),
    benchmark:
        res("benchmarks", "finetune", "{model}", "kshot.tsv")
    params:
        kind="kshot",
        recipe="kshot",
        probe_splits=[],
        tasks=FT_TASKS,
        splits=FT_SPLITS,
        settings=FT,
        seed=config["seed"],


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
    conda:
        ENV
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
        work_dir=lambda wc: res("finetune", wc.model, wc.recipe),
        splits=FT_SPLITS,
        settings=FT,
        model_section=config["model"],
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
        work_dir=lambda wc: res("finetune", wc.model, f"{wc.task}-n{wc.n}"),
        splits=FT_SPLITS,
        settings=FT,
        model_section=config["model"],
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
    conda:
        ENV
    params:
        splits=FT_SPLITS,
        settings=FT,
        seed=config["seed"],
    script:
        "../scripts/finetune_tfidf.py"


TARGETS += [prediction_run_json(r["model"], r["recipe"]) for r in PREDICTION_RUNS]
