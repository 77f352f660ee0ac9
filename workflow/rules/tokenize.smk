# Stage: tokenizer and token shards (docs/architecture.md#corpus-and-shards). One
# SentencePiece model for every mix, so models pretrained on different mixes share a vocabulary and compare fairly; shards
# per mix. Changing a tokenizer setting reruns only the tokenizer and what reads it.

TOKENIZER = config["tokenizer"]


rule tokenizer:
    input:
        unpack(lambda wildcards: tokenizer_inputs()),
    output:
        model=res("tokenizer", "spm.model"),
        info=res("tokenizer", "tokenizer.json"),
    log:
        res("logs", "tokenizer", "train.log"),
    benchmark:
        res("benchmarks", "tokenizer", "train.tsv")
    conda:
        ENV
    threads: TOKENIZER["threads"]
    params:
        existing=TOKENIZER["model"],
        vocab_size=TOKENIZER["vocab_size"],
        sample_chars=TOKENIZER["sample_chars"],
        train_mix=TOKENIZER["train_mix"],
        weights=config["corpus"]["mixes"].get(TOKENIZER["train_mix"], {}),
        seed=config["seed"],
    script:
        "../scripts/tokenizer_train.py"


rule shards:
    input:
        train=res("corpus", "pretrain", "{mix}", "train.parquet"),
        val=res("corpus", "pretrain", "{mix}", "val.parquet"),
        tokenizer=res("tokenizer", "spm.model"),
    output:
        train=directory(res("shards", "{mix}", "train")),
        val=directory(res("shards", "{mix}", "val")),
        index=res("shards", "{mix}", "index.json"),
    log:
        res("logs", "shards", "{mix}.log"),
    benchmark:
        res("benchmarks", "shards", "{mix}.tsv")
    conda:
        ENV
    threads: TOKENIZER["threads"]
    params:
        weights=lambda wildcards: config["corpus"]["mixes"][wildcards.mix],
        shard_tokens=TOKENIZER["shard_tokens"],
        batch_docs=TOKENIZER["batch_docs"],
    script:
        "../scripts/shards_write.py"


TARGETS += expand(
    res("shards", "{mix}", "index.json"), mix=list(config["corpus"]["mixes"])
)
