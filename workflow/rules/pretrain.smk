# Stage: pretrain. Each model of `pretrain.models` trains a Llama preset on the shards of its
# corpus mix (DESIGN §5). Resumable checkpoints live in R/pretrain/{model}/checkpoints/ and
# are deliberately not outputs: Snakemake deletes the outputs of a failed job, and a rerun
# of a killed job must find the checkpoints to resume from.

PRETRAIN = config["pretrain"]
PRETRAIN_MODELS = list(PRETRAIN["models"])
# config keys that are TrainConfig fields (the rest are job resources or the model list)
PRETRAIN_TRAIN_KEYS = [
    "tokens",
    "seq_len",
    "batch_size",
    "micro_batch_size",
    "lr",
    "min_lr",
    "warmup_steps",
    "betas",
    "eps",
    "weight_decay",
    "grad_clip",
    "precision",
    "log_interval",
    "eval_interval",
    "eval_batches",
    "patience",
    "checkpoint_every_tokens",
    "keep_last",
    "n_snapshots",
    "spike",
    "reshard_after_forward",
    "activation_checkpointing",
    "compile",
    "tensorboard",
]


def pretrain_mix(wildcards):
    return PRETRAIN["models"][wildcards.model]["mix"]


def pretrain_settings(wildcards):
    """TrainConfig fields for one model: the shared settings, then the model's overrides."""
    own = PRETRAIN["models"][wildcards.model]
    train = {k: PRETRAIN[k] for k in PRETRAIN_TRAIN_KEYS if k in PRETRAIN}
    train.update({k: v for k, v in own.items() if k not in ("mix", "preset")})
    train["seed"] = config["seed"]
    return train


rule pretrain:
    input:
        index=lambda wildcards: res("shards", pretrain_mix(wildcards), "index.json"),
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
    threads: PRETRAIN["cpus_per_task"]
    resources:
        gpu=PRETRAIN["gpus"],
        cpus_per_task=PRETRAIN["cpus_per_task"],
        mem_mb=PRETRAIN["mem_mb"],
        runtime=PRETRAIN["runtime"],
    params:
        run_dir=lambda wildcards: res("pretrain", wildcards.model),
        shard_dir=lambda wildcards: res("shards", pretrain_mix(wildcards)),
        train=pretrain_settings,
        preset=lambda wildcards: PRETRAIN["models"][wildcards.model].get("preset"),
        model_section=config.get("model", {}),
        gpus=PRETRAIN["gpus"],
        config_section=lambda wildcards: {
            "pretrain": pretrain_settings(wildcards),
            "model": config.get("model", {}),
            "mix": pretrain_mix(wildcards),
        },
        seed=config["seed"],
    script:
        "../scripts/pretrain.py"


TARGETS += expand(res("pretrain", "{model}", "final"), model=PRETRAIN_MODELS)
