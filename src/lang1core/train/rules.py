"""Helpers for workflow/rules/pretrain.smk (plain functions of the config dict)."""

from __future__ import annotations

from dataclasses import fields

from lang1core.train.config import TrainConfig

# `pretrain:` keys that are TrainConfig fields; the rest are the model list and job resources.
TRAIN_KEYS = [f.name for f in fields(TrainConfig) if f.name != "seed"]
MODEL_KEYS_NOT_TRAIN = ("mix", "preset")


def train_settings(pretrain: dict, model: str, seed: int) -> dict:
    """TrainConfig fields for one model: the shared settings, then the model's own overrides."""
    own = pretrain["models"][model]
    train = {k: pretrain[k] for k in TRAIN_KEYS if k in pretrain}
    train.update({k: v for k, v in own.items() if k not in MODEL_KEYS_NOT_TRAIN})
    train["seed"] = seed
    return train
