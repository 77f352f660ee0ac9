"""Settings of one pretraining run (docs/study.md#pretraining gives the study's values).

Every field is plain data so the config can be stored in each checkpoint and in the final
model's lang1.json, and a later rule can rebuild the run from the file alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from lang1core.settings import ConfigError, build


@dataclass
class SpikeConfig:
    """Loss-spike / NaN guard: when to give up on the current trajectory and roll back."""

    # A step's loss counts as a spike when it exceeds `factor` x the median of the last
    # `window` accepted losses. 2x: normal noise on a shuffled corpus stays well under
    # that, while the divergences the study restarted by hand were several-fold jumps.
    factor: float = 2.0
    # Accepted losses the median is taken over; spikes are only judged once it is full.
    window: int = 20
    # Rollbacks allowed in one run before it fails (a run that keeps diverging needs a
    # human: lower LR, different data). Non-finite losses always trigger a rollback.
    max_rollbacks: int = 5
    # Steps to ignore at the start (the first losses fall fast and are noisy).
    skip_first: int = 20


@dataclass
class TrainConfig:
    """One pretraining run."""

    # Training budget in tokens; steps = tokens // (batch_size * seq_len).
    tokens: int = 1_000_000
    # Sequence length in tokens (context of every training example).
    seq_len: int = 256
    # Global batch in sequences per optimizer step (study: 4096 for 100M, 1024 for 1B/7B).
    batch_size: int = 16
    # Sequences per forward/backward on one rank; batch_size must be a multiple of
    # micro_batch_size * world_size, the quotient is the number of accumulation steps.
    micro_batch_size: int = 8
    # Peak learning rate after warmup.
    lr: float = 3e-4
    # Floor of the cosine decay (study: 4e-5).
    min_lr: float = 4e-5
    # Linear warmup steps (study: 2000); clipped to a tenth of the run when the run is short.
    warmup_steps: int = 2000
    # AdamW (study: betas 0.9/0.95, eps 1e-8, weight decay 0.1 on matrices only).
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    weight_decay: float = 0.1
    # Global gradient-norm clip (study: 1.0); 0 disables.
    grad_clip: float = 1.0
    # "auto": bfloat16 autocast on CUDA, float32 on CPU; or "bf16" / "fp32".
    precision: str = "auto"
    # Seed for init and data order (study: 3407).
    seed: int = 3407
    # Steps between metrics.csv rows.
    log_interval: int = 10
    # Steps between validation passes (0: only at the end) and batches per pass.
    eval_interval: int = 100
    eval_batches: int = 10
    # Stop after this many validation passes without improvement (0 disables).
    patience: int = 0
    # Write a resumable checkpoint every this many tokens (0: only at the end); keep the last K.
    checkpoint_every_tokens: int = 0
    keep_last: int = 2
    # HF-format snapshots evenly spaced in tokens (the trajectory of Fig. 3).
    n_snapshots: int = 0
    spike: SpikeConfig = field(default_factory=SpikeConfig)
    # FSDP2: reshard parameters after forward. "auto": only for models over 2B parameters
    # (the study sharded gradients and optimizer state up to 1B and everything at 7B).
    reshard_after_forward: str = "auto"
    # Recompute each block's activations in backward (saves memory, ~30% more compute).
    activation_checkpointing: bool = False
    # torch.compile each block.
    compile: bool = False
    # Also write TensorBoard event files beside metrics.csv (needs tensorboard installed).
    tensorboard: bool = False

    def __post_init__(self):
        if isinstance(self.spike, dict):
            self.spike = SpikeConfig(**self.spike)
        self.betas = tuple(self.betas)
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision {self.precision!r}: expected auto, bf16 or fp32")
        if self.reshard_after_forward not in ("auto", "true", "false", True, False):
            raise ValueError(
                f"reshard_after_forward {self.reshard_after_forward!r}: expected auto/true/false")

    @classmethod
    def from_dict(cls, values: dict, source: str = "pretrain settings") -> "TrainConfig":
        return build(cls, values, source)

    def to_dict(self) -> dict:
        return asdict(self)


# Keys of a `pretrain.models` entry that choose the data and architecture; its other keys
# override the shared TrainConfig fields for that model.
MODEL_KEYS = ("mix", "preset")
TRAIN_FIELDS = tuple(f.name for f in fields(TrainConfig) if f.name != "seed")


def train_config(config: dict, model: str) -> TrainConfig:
    """The one way a pretraining run's settings are made, for the workflow's rule and
    `lang1 pretrain --config` alike: from a checked workflow config
    (lang1core.settings.check_config), the `pretrain:` section's shared settings, then the
    model's own overrides, with the config's master seed."""
    section = config["pretrain"]
    if model not in section["models"]:
        raise ConfigError(f"pretrain.models has no model {model!r} (known: {sorted(section['models'])})")
    values = {k: section[k] for k in TRAIN_FIELDS if k in section}
    values.update({k: v for k, v in section["models"][model].items() if k not in MODEL_KEYS})
    values["seed"] = config["seed"]
    return TrainConfig.from_dict(values, source=f"pretrain (model {model})")


def preset_of(config: dict, model: str) -> str | None:
    """The model's own preset, or None for the `model:` section's."""
    return config["pretrain"]["models"][model].get("preset")
