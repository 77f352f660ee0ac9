"""Resumable checkpoints: atomic, sharded under FSDP, on a token schedule, last K kept.

Layout of one checkpoint (`<dir>/step_00001234/`):

    model_optim/        model + optimizer state, torch.distributed.checkpoint (DCP) format:
                        each rank writes its own shards, so a sharded FSDP run never gathers
                        the full model to save; a single process writes the same format
    rank{r}.pt          per-rank state: data-loader position and RNG states (torch, CUDA,
                        numpy, python), which differ between ranks
    trainer.pt          scheduler, spike detector, counters, early-stopping state
    meta.json           step, tokens, world size, the run's config; written LAST

Atomicity: everything is written under `.tmp-step_.../`, fsynced, then renamed to
`step_.../` (swapped in when the step exists already, `lang1core.publish.swap_in`), so a
crash at any moment leaves either the new checkpoint complete or the previous one
untouched. A directory without meta.json is never loaded; leftover `.tmp-*` folders are
removed by the next save.
"""

from __future__ import annotations

import json
import logging
import io
import os
import pickle
import random
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint import FileSystemReader
from torch.distributed.checkpoint.api import CheckpointException
from torch.distributed.checkpoint.default_planner import DefaultLoadPlanner
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

from lang1core.publish import fsync_tree, swap_in

log = logging.getLogger(__name__)

STEP_RE = re.compile(r"^(\.old-)?step_(\d{8,})$")


def _rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def _barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def rng_state() -> dict:
    """RNG states as tensors and plain values only, so they load with weights_only=True."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"python": random.getstate(),
             "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class CheckpointInfo:
    path: Path
    step: int
    tokens: int


def list_checkpoints(directory: str | Path) -> list[CheckpointInfo]:
    """Complete checkpoints under `directory`, oldest first (incomplete ones are ignored)."""
    out = []
    directory = Path(directory)
    if not directory.is_dir():
        return out
    by_step: dict[int, CheckpointInfo] = {}
    # `.old-step_N` is a checkpoint being replaced by a newer `step_N` (after a rollback);
    # it counts only if the crash came before the new one was in place.
    for child in sorted(directory.iterdir(), key=lambda p: p.name.startswith(".old-")):
        m = STEP_RE.match(child.name)
        if not m or not (child / "meta.json").is_file():
            continue
        meta = json.loads((child / "meta.json").read_text())
        by_step.setdefault(int(meta["step"]), CheckpointInfo(child, int(meta["step"]),
                                                             int(meta["tokens"])))
    return [by_step[s] for s in sorted(by_step)]


def latest_checkpoint(directory: str | Path) -> CheckpointInfo | None:
    found = list_checkpoints(directory)
    return found[-1] if found else None


def save_checkpoint(directory: str | Path, *, step: int, tokens: int, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, trainer_state: dict, rank_state: dict,
                    meta: dict, keep_last: int = 2, protect: tuple[int, ...] = ()) -> Path:
    """Write checkpoint `step` atomically; every rank must call this (collective under FSDP).

    `rank_state` is this rank's loader position (RNG states are added here); `trainer_state`
    is the same on every rank and saved by rank 0. Afterwards only the newest `keep_last`
    checkpoints (plus the steps in `protect`) are kept.
    """
    directory = Path(directory)
    final = directory / f"step_{step:08d}"
    tmp = directory / f".tmp-step_{step:08d}"
    rank = _rank()
    if rank == 0:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob(".tmp-step_*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in directory.glob(".old-step_*"):
            if (directory / stale.name.removeprefix(".old-") / "meta.json").is_file():
                shutil.rmtree(stale, ignore_errors=True)
        tmp.mkdir()
    _barrier()

    model_sd, optim_sd = get_state_dict(model, optimizer)
    with warnings.catch_warnings():  # single process: DCP warns that it assumes so
        warnings.filterwarnings("ignore", message=".*single process")
        dcp.save({"model": model_sd, "optim": optim_sd}, checkpoint_id=str(tmp / "model_optim"),
                 no_dist=not dist.is_initialized())
    torch.save({**rank_state, "rng": rng_state()}, tmp / f"rank{rank}.pt")
    _barrier()
    if rank == 0:
        torch.save(trainer_state, tmp / "trainer.pt")
        fsync_tree(tmp)
        _write_meta(tmp, {**meta, "step": step, "tokens": tokens,
                          "world_size": dist.get_world_size() if dist.is_initialized() else 1})
        # The same step again after a rollback replaces the old one without a moment where
        # neither exists; `.old-step_N` is only used where the atomic exchange is unavailable.
        swap_in(tmp, final, aside=directory / f".old-step_{step:08d}")
        _prune(directory, keep_last, protect)
    _barrier()
    log.info("checkpoint step %d (%d tokens) -> %s", step, tokens, final)
    return final


def _write_meta(tmp: Path, meta: dict) -> None:
    path = tmp / "meta.json"
    with open(path, "w") as f:
        json.dump(meta, f, indent=1, default=str)
        f.flush()
        os.fsync(f.fileno())


def _prune(directory: Path, keep_last: int, protect: tuple[int, ...]) -> None:
    found = list_checkpoints(directory)
    for info in found[:-keep_last] if keep_last > 0 else []:
        if info.step not in protect:
            shutil.rmtree(info.path, ignore_errors=True)


def load_checkpoint(path: str | Path, *, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, restore_rank_state: bool = True
                    ) -> tuple[dict, dict | None, dict]:
    """Load model and optimizer in place; return (trainer_state, rank_state or None, meta).

    Every rank must call this. The world size must match the one that wrote it (DCP could
    reshard, but the data-loader positions are per rank).
    """
    path = Path(path)
    meta = json.loads((path / "meta.json").read_text())
    world = dist.get_world_size() if dist.is_initialized() else 1
    if meta["world_size"] != world:
        raise RuntimeError(
            f"checkpoint {path} was written by {meta['world_size']} rank(s) but this run has "
            f"{world}; resume with the same number of GPUs (pretrain.gpus) or delete "
            f"{path.parent} to start over")
    model_sd, optim_sd = get_state_dict(model, optimizer)
    state = {"model": model_sd, "optim": optim_sd}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*single process")
        try:
            dcp.load(state, checkpoint_id=str(path / "model_optim"), storage_reader=_SafeReader(path / "model_optim"),
                     planner=_SafeLoadPlanner(), no_dist=not dist.is_initialized())
        except CheckpointException as e:  # DCP gathers each rank's failure into one: name the refusal
            refused = re.search(r"(\S+: refused to load: [^;\n'\"]*)", f"{e} {getattr(e, 'failures', '')!r}")
            if refused:
                raise RuntimeError(refused.group(1)) from None
            raise
    set_state_dict(model, optimizer, model_state_dict=state["model"],
                   optim_state_dict=state["optim"])
    trainer_state = _load_plain(path / "trainer.pt")
    rank_state = None
    if restore_rank_state:
        rank_state = _load_plain(path / f"rank{_rank()}.pt")
        set_rng_state(rank_state.pop("rng"))
    return trainer_state, rank_state, meta


# What DCP's .metadata may name: its own metadata classes, tensor sizes, dtypes and layouts.
_METADATA_GLOBALS = {("torch", "Size"), ("torch._utils", "_get_layout"), ("torch.serialization", "_get_layout"),
                     ("collections", "OrderedDict"),
                     ("torch.distributed.checkpoint.filesystem", "_StorageInfo"),
                     ("pathlib", "PosixPath"), ("pathlib", "PurePosixPath"),
                     ("pathlib._local", "PosixPath"), ("pathlib._local", "PurePosixPath")}


class _MetadataUnpickler(pickle.Unpickler):
    """Unpickles DCP metadata, refusing any global but its data classes (no code can run)."""

    def find_class(self, module: str, name: str):
        obj = super().find_class(module, name) if self._allowed(module, name) else None
        if obj is None or (module == "torch.distributed.checkpoint.metadata" and not isinstance(obj, type)):
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in checkpoint metadata")
        return obj

    @staticmethod
    def _allowed(module: str, name: str) -> bool:
        return ((module, name) in _METADATA_GLOBALS or module == "torch.distributed.checkpoint.metadata"
                or (module == "torch" and isinstance(getattr(torch, name, None), torch.dtype)))


class _SafeReader(FileSystemReader):
    """DCP's reader, with the metadata checked by `_MetadataUnpickler` before it is loaded."""

    def read_metadata(self, *args, **kwargs):
        file = Path(str(self.path)) / ".metadata"
        try:
            with open(file, "rb") as f:
                _MetadataUnpickler(f).load()
        except pickle.UnpicklingError as e:
            raise RuntimeError(f"{file}: refused to load: {e}; it was tampered with — start a new "
                               "output folder") from None
        return super().read_metadata(*args, **kwargs)


class _SafeLoadPlanner(DefaultLoadPlanner):
    """DCP's planner, with non-tensor entries (optimizer hyper-parameters) checked to be plain
    values by weights_only=True before DCP's own (unrestricted) load reads the same bytes."""

    def load_bytes(self, read_item, value):
        data = value.read()
        try:
            torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as e:
            raise RuntimeError(f"checkpoint entry {read_item.dest_index.fqn}: refused to load: it holds "
                               f"objects other than tensors and plain values ({str(e).splitlines()[0][:200]})"
                               ) from None
        super().load_bytes(read_item, io.BytesIO(data))


def _load_plain(file: Path) -> dict:
    """A state file of tensors and plain values. weights_only=True refuses anything else, so a
    tampered checkpoint cannot run code when it is loaded."""
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise RuntimeError(
            f"{file}: refused to load: it holds objects other than tensors and plain values "
            f"({str(e).splitlines()[0][:200]}); it was tampered with or written by an older lang1 — "
            "start a new output folder") from None


def load_meta(path: str | Path) -> dict[str, Any]:
    return json.loads((Path(path) / "meta.json").read_text())
