# Stage: pretrain. Each model of `pretrain.models` trains a Llama preset on the shards of its
# corpus mix (docs/study.md#pretraining). Resumable checkpoints live in
# R/pretrain/{model}/checkpoints/ and are deliberately not outputs: Snakemake deletes the outputs of a failed job, and a rerun
# of a killed job must find the checkpoints to resume from.

from lang1core.train.config import preset_of, train_config

PRETRAIN = config["pretrain"]
PRETRAIN_MODELS = list(PRETRAIN["models"])


rule pretrain:
    input:
        index=lambda wildcards: res(
            "shards", PRETRAIN["models"][wildcards.model]["mix"], "index.json"
        ),
        tokenizer=res("tokenizer", "spm.model"),
    output:
        final=directory(res("pretrain", "{model}", "final")),
        metrics=res("pretrain", "{model}", "metrics.csv"),
        snapshots=[
            directory(res("pretrain", "{model}", "snapshots", str(i)))
            for i in range(1, PRETRAIN["n_snapshots"] + 1)
        ],
    log:
        res("logs", "pretrain", "{model}.log"),
    benchmark:
        res("benchmarks", "pretrain", "{model}.tsv")
    wildcard_constraints:
        model="|".join(PRETRAIN_MODELS),
    conda:
        ENV
    threads: PRETRAIN["cpus_per_task"]
    resources:
        gpu=PRETRAIN["gpus"],
        cpus_per_task=PRETRAIN["cpus_per_task"],
        mem_mb=PRETRAIN["mem_mb"],
        runtime=PRETRAIN["runtime"],
    params:
        run_dir=lambda wildcards: res("pretrain", wildcards.model),
        shard_dir=lambda wildcards: res(
            "shards", PRETRAIN["models"][wildcards.model]["mix"]
        ),
        train=lambda wildcards: train_config(config, wildcards.model).to_dict(),
        preset=lambda wildcards: preset_of(config, wildcards.model),
        model_section=config["model"],
        gpus=PRETRAIN["gpus"],
        config_section=lambda wildcards: {
            "pretrain": train_config(config, wildcards.model).to_dict(),
            "model": config["model"],
            "mix": PRETRAIN["models"][wildcards.model]["mix"],
        },
        seed=config["seed"],
    script:
        "../scripts/pretrain.py"


TARGETS += expand(res("pretrain", "{model}", "final"), model=PRETRAIN_MODELS)
