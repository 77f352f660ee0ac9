"""Pretraining: a lean trainer that scales from a laptop to FSDP and never loses a run.

Modules: config (TrainConfig), schedule (warmup + cosine), spikes (loss-spike / NaN guard),
checkpoint (atomic, sharded, resumable), parallel (FSDP2, activation checkpointing,
compile, process group), metrics (metrics.csv, MFU), trainer (the loop), pretrain (the
workflow's entry point wiring the model, shards and tokenizer).
"""

from lang1core.train.config import SpikeConfig, TrainConfig
from lang1core.train.trainer import Trainer, TrainingFailed, TrainResult

__all__ = ["SpikeConfig", "TrainConfig", "Trainer", "TrainingFailed", "TrainResult"]
