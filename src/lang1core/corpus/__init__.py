"""The corpus stage: extract, clean, general text, mix, tokenizer, shards, statistics.

Each step reads the previous step's files and writes its own, counting every row it drops by
reason (files: docs/architecture.md#corpus-and-shards). The data loader the trainer uses
lives in `lang1core.data`.
"""
