# Stage: corpus (docs/architecture.md#corpus-and-shards). Validated notes -> one row per
# note -> the study's cleaning -> Appendix-G statistics; general text; per-mix pretraining documents with the date cutoff,
# the temporal test window and the held-out site excluded (and proven absent).

from lang1core.corpus.general import source_files as general_source_files
from lang1core.corpus.mix import canary_settings

CORPUS = config["corpus"]
MIXES = list(CORPUS["mixes"])


wildcard_constraints:
    mix="|".join(MIXES),


rule corpus_extract:
    input:
        notes=res("validated", "notes.parquet"),
        encounters=res("validated", "encounters.parquet"),
        patients=res("validated", "patients.parquet"),
        rejected=res("validated", "rejected", "notes.parquet"),
    output:
        notes=res("corpus", "notes.parquet"),
        rejected=res("corpus", "rejected.parquet"),
        stats=res("corpus", "extract_stats.json"),
    log:
        res("logs", "corpus", "extract.log"),
    benchmark:
        res("benchmarks", "corpus", "extract.tsv")
    conda:
        ENV
    script:
        "../scripts/corpus_extract.py"


rule corpus_clean:
    input:
        notes=res("corpus", "notes.parquet"),
    output:
        clean=res("corpus", "clean.parquet"),
        dropped=res("corpus", "dropped.parquet"),
        stats=res("corpus", "clean_stats.json"),
    log:
        res("logs", "corpus", "clean.log"),
    benchmark:
        res("benchmarks", "corpus", "clean.tsv")
    conda:
        ENV
    params:
        min_words=CORPUS["min_words"],
        placeholders=CORPUS["placeholders"],
        dedupe=CORPUS["dedupe"],
    script:
        "../scripts/corpus_clean.py"


rule corpus_general:
    input:
        lambda wildcards: general_source_files(CORPUS["general"]["sources"]),
    output:
        general=res("corpus", "general.parquet"),
        stats=res("corpus", "general_stats.json"),
    log:
        res("logs", "corpus", "general.log"),
    benchmark:
        res("benchmarks", "corpus", "general.tsv")
    conda:
        ENV
    params:
        sources=CORPUS["general"]["sources"],
        min_words=CORPUS["min_words"],
        max_documents=CORPUS["general"]["max_documents"],
        text_field=CORPUS["general"]["text_field"],
    script:
        "../scripts/corpus_general.py"


rule corpus_mix:
    input:
        unpack(lambda wildcards: mix_inputs(wildcards.mix)),
    output:
        train=res("corpus", "pretrain", "{mix}", "train.parquet"),
        val=res("corpus", "pretrain", "{mix}", "val.parquet"),
        stats=res("corpus", "pretrain", "{mix}", "mix_stats.json"),
    log:
        res("logs", "corpus", "mix_{mix}.log"),
    benchmark:
        res("benchmarks", "corpus", "mix_{mix}.tsv")
    conda:
        ENV
    params:
        weights=lambda wildcards: CORPUS["mixes"][wildcards.mix],
        cutoff=CORPUS["cutoff"],
        exclude_periods=CORPUS["exclude_periods"],
        held_out_site=config["held_out_site"],
        val_fraction=CORPUS["val_fraction"],
        min_val_documents=CORPUS["min_val_documents"],
        canaries=canary_settings(CORPUS, config["source"]),
        seed=config["seed"],
    script:
        "../scripts/corpus_mix.py"


rule corpus_stats:
    input:
        clean=res("corpus", "clean.parquet"),
        tokenizer=res("tokenizer", "spm.model"),
    output:
        table=res("corpus", "stats", "corpus_stats.csv"),
        markdown=res("corpus", "stats", "corpus_stats.md"),
    log:
        res("logs", "corpus", "stats.log"),
    benchmark:
        res("benchmarks", "corpus", "stats.tsv")
    conda:
        ENV
    threads: config["tokenizer"]["threads"]
    script:
        "../scripts/corpus_stats.py"


TARGETS += [
    res("corpus", "clean_stats.json"),
    res("corpus", "stats", "corpus_stats.csv"),
]
