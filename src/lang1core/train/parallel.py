"""Parallelism and speed-ups applied from outside the model
(docs/architecture.md#parallelism-from-outside-the-model).

The model only exposes `.blocks` (a ModuleList of transformer blocks); `parallelize` wraps
it the way torchtitan does: activation checkpointing and torch.compile per block, then
FSDP2 `fully_shard` on every block and finally on the root, so each block's parameters are
all-gathered just before it runs and its gradients reduce-scattered right after. It works on
a model built on the meta device, which the caller then allocates and initialises with the
model's own `materialize` (each rank only its shards). None of these functions renames
parameters, so state dicts keep the model's own names.
"""

from __future__ import annotations

import datetime
import functools
import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

log = logging.getLogger(__name__)

# Parameters above which FSDP also reshards parameters after forward ("full sharding",
# ZeRO-3). Below, only gradients and optimizer state are sharded (ZeRO-2-like), as the
# study did up to 1B; it fully sharded its 7B run.
FULL_SHARD_ABOVE = 2_000_000_000


@dataclass
class DistInfo:
    rank: int
    local_rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(timeout_minutes: float = 10.0) -> DistInfo:
    """Join the process group torchrun describes (RANK/WORLD_SIZE env), or run alone.

    NCCL on CUDA, gloo on CPU. The timeout bounds how long a surviving rank waits on a
    dead one before it fails with a message instead of hanging.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=datetime.timedelta(minutes=timeout_minutes),
                                device_id=device if device.type == "cuda" else None)
    return DistInfo(rank, local_rank, world, device)


def parallelize(model: nn.Module, *, fsdp: bool, activation_checkpointing: bool = False,
                compile: bool = False, reshard_after_forward: bool = False,
                param_dtype: torch.dtype | None = None) -> nn.Module:
    """Activation checkpointing, then compile, then (with `fsdp`) FSDP2, in torchtitan's
    order: checkpointing and compile wrap each block's own forward, and FSDP's hooks go
    around the result."""
    if activation_checkpointing:
        apply_activation_checkpointing(model)
    if compile:
        apply_compile(model)
    if fsdp:
        apply_fsdp(model, reshard_after_forward=reshard_after_forward, param_dtype=param_dtype)
    return model


def apply_activation_checkpointing(model: nn.Module) -> None:
    """Recompute each block's activations during backward instead of storing them.

    The block's `forward` is replaced on the instance (not wrapped in a new module), so
    parameter names and FSDP's hooks on the block are unchanged.
    """
    from torch.utils.checkpoint import checkpoint

    for block in model.blocks:
        inner = block.forward

        @functools.wraps(inner)
        def forward(*args, _inner=inner, **kwargs):
            return checkpoint(_inner, *args, use_reentrant=False, **kwargs)

        block.forward = forward


def apply_compile(model: nn.Module) -> None:
    """torch.compile every block in place (same names; the blocks share one compiled graph)."""
    for block in model.blocks:
        block.compile()


def resolve_reshard(setting: str | bool, n_params: int) -> bool:
    if setting in (True, "true"):
        return True
    if setting in (False, "false"):
        return False
    return n_params > FULL_SHARD_ABOVE


def apply_fsdp(model: nn.Module, *, reshard_after_forward: bool,
               param_dtype: torch.dtype | None = None) -> nn.Module:
    """FSDP2: `fully_shard` each block, then the root (embeddings, final norm, output).

    Sharding gradients and optimizer state always; parameters stay gathered between forward
    and backward unless `reshard_after_forward`. `param_dtype` (bfloat16 on GPU) makes
    FSDP gather parameters in that dtype while reducing gradients in float32.
    """
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import (
        MixedPrecisionPolicy, fully_shard, register_fsdp_forward_method,
    )

    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    mesh = init_device_mesh(device_type, (dist.get_world_size(),))
    mp = MixedPrecisionPolicy(param_dtype=param_dtype, reduce_dtype=torch.float32)
    for block in model.blocks:
        fully_shard(block, mesh=mesh, reshard_after_forward=reshard_after_forward, mp_policy=mp)
    # The root's parameters are needed again first in backward (output layer): keep them.
    fully_shard(model, mesh=mesh, reshard_after_forward=False, mp_policy=mp)
    # the trainer calls model.loss(...), not model(...): FSDP must gather the root's
    # parameters around these methods too
    for method in ("loss", "hidden"):
        if hasattr(model, method):
            register_fsdp_forward_method(model, method)
    return model
