"""The training loop: one readable function over the pieces in this package.

    run = Trainer(cfg, build_model, make_loader, run_dir, save_hf=...)
    result = run.fit()

Files under `run_dir` (R/pretrain/{model}/):
    checkpoints/step_*/         resumable checkpoints (checkpoint.py); not workflow outputs,
                                so Snakemake never deletes them after a failure
    checkpoints/metrics.csv     live log (metrics.py), truncated to the checkpoint on resume
    checkpoints/snapshots/{i}/  HF snapshots as they are reached
    metrics.csv, snapshots/{i}/, final/    published when the run completes

Resume: `fit()` always starts from the newest complete checkpoint if there is one, so
rerunning a killed job continues it; with the same world size the continuation is exact
(same batches, same RNG, same optimizer state; tested by killing a CPU run).
Rollback: a non-finite or spiking loss is refused before the optimizer step; the model,
optimizer, scheduler and counters return to the newest checkpoint while the data loader
keeps its position, so the window of batches since that checkpoint is skipped.
"""

from __future__ import annotations

import logging
import math
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import torch
import torch.distributed as dist
from torch import nn

from lang1core.publish import published_dir, published_file
from lang1core.train import checkpoint as ckpt
from lang1core.train.config import TrainConfig
from lang1core.train.metrics import (
    MetricsLog, flops_per_token, memory_gb, peak_flops, truncate_after,
)
from lang1core.train.parallel import DistInfo, parallelize, resolve_reshard
from lang1core.train.schedule import WarmupCosine
from lang1core.train.spikes import SpikeDetector

log = logging.getLogger(__name__)


class Loader(Protocol):
    """What the trainer needs from a data loader (lang1core.data.ShardLoader)."""

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]: ...
    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict) -> None: ...


class Model(Protocol):
    """What the trainer needs from a model (lang1core.model.Llama): its shape, a loss, a
    parameter count and a way to allocate and initialise itself after being built on the
    meta device; `.blocks` for parallel.parallelize."""

    config: Any  # n_layers, dim, tie_embeddings
    blocks: nn.ModuleList

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor: ...
    def num_params(self, exclude_embeddings: bool = False) -> int: ...
    def materialize(self, device: torch.device, seed: int) -> nn.Module: ...


# make_loader(split, batch_size, seq_len, rank, world_size, seed) -> Loader
LoaderFactory = Callable[[str, int, int, int, int, int], Loader]
# save_hf(model, out_dir, extra) writes a Hugging Face directory (rank 0, unsharded model)
SaveHF = Callable[[nn.Module, Path, dict], None]
# eval_hook(model, step, tokens) -> {name: value}; run on every rank at each snapshot
EvalHook = Callable[[nn.Module, int, int], dict]


class TrainingFailed(RuntimeError):
    """A run that cannot continue; the message says why and what to change."""


@dataclass
class TrainResult:
    step: int
    tokens: int
    final_dir: Path | None
    losses: list[float] = field(default_factory=list)
    rollbacks: int = 0
    early_stopped: bool = False


class Trainer:
    def __init__(self, cfg: TrainConfig, build_model: Callable[[], Model],
                 make_loader: LoaderFactory, run_dir: str | Path, *, dist_info: DistInfo,
                 save_hf: SaveHF | None = None, eval_hook: EvalHook | None = None,
                 label: str = "model", extra_meta: dict | None = None,
                 progress: bool | None = None,
                 step_callback: Callable[["Trainer"], None] | None = None,
                 fsdp: bool | None = None):
        self.cfg, self.d = cfg, dist_info
        self.run_dir = Path(run_dir)
        self.ck_dir = self.run_dir / "checkpoints"
        self.make_loader, self.save_hf, self.eval_hook = make_loader, save_hf, eval_hook
        self.build_model = build_model
        self.label = label  # names the preset in error messages
        self.extra_meta = dict(extra_meta or {})
        self.step_callback = step_callback
        # FSDP2 whenever there are several ranks; fsdp=True also shards on a single rank (the
        # one-GPU check of the sharded path and its checkpoints, bench/gpu_check.py)
        self.fsdp = dist_info.world_size > 1 if fsdp is None else fsdp
        self.progress = (sys.stderr.isatty() if progress is None else progress) and dist_info.is_main

        world = dist_info.world_size
        per_step = cfg.micro_batch_size * world
        if cfg.batch_size % per_step:
            raise ValueError(
                f"pretrain batch_size {cfg.batch_size} is not a multiple of micro_batch_size "
                f"{cfg.micro_batch_size} x {world} rank(s) = {per_step}")
        self.accum = cfg.batch_size // per_step
        self.tokens_per_step = cfg.batch_size * cfg.seq_len
        self.total_steps = max(1, cfg.tokens // self.tokens_per_step)
        self.warmup = min(cfg.warmup_steps, max(1, self.total_steps // 10))
        if self.warmup < cfg.warmup_steps:
            log.warning("warmup_steps %d clipped to %d: the run has only %d steps",
                        cfg.warmup_steps, self.warmup, self.total_steps)
        cuda = dist_info.device.type == "cuda"
        self.bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and cuda)
        self.ckpt_every_steps = (max(1, cfg.checkpoint_every_tokens // self.tokens_per_step)
                                 if cfg.checkpoint_every_tokens else 0)
        # snapshot i (1..n) once tokens >= i * budget / n, i.e. at these steps
        n = cfg.n_snapshots
        self.snapshot_steps = {max(1, round(i * self.total_steps / n)): i for i in range(1, n + 1)}

    # --- setup ------------------------------------------------------------------------
    def _setup(self) -> None:
        cfg, d = self.cfg, self.d
        torch.manual_seed(cfg.seed)
        # Built on the meta device, wrapped (parallel.parallelize), then allocated and
        # initialised by the model's own materialize: under FSDP no rank ever holds the full
        # float32 model (a 7B model is 27 GB), and the weights equal an unsharded init's.
        with torch.device("meta"):
            model = self.build_model()
        mc = model.config
        self.n_params = model.num_params()
        # every matrix multiply's FLOPs: a tied embedding is also the output projection
        n_dense = model.num_params(exclude_embeddings=not mc.tie_embeddings)
        self.flops_per_token = flops_per_token(n_dense, mc.n_layers, mc.dim, cfg.seq_len)
        self.peak = peak_flops(d.device)
        model = parallelize(model, fsdp=self.fsdp, activation_checkpointing=cfg.activation_checkpointing,
                            compile=cfg.compile,
                            reshard_after_forward=resolve_reshard(cfg.reshard_after_forward, self.n_params),
                            param_dtype=torch.bfloat16 if self.bf16 else None)
        self.model = model.materialize(d.device, cfg.seed)
        decay = [p for p in model.parameters() if p.ndim >= 2]  # matrices; not norms/biases
        no_decay = [p for p in model.parameters() if p.ndim < 2]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": cfg.weight_decay},
             {"params": no_decay, "weight_decay": 0.0}],
            lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, fused=d.device.type == "cuda" and not self.fsdp)
        self.scheduler = WarmupCosine(self.optimizer, max_lr=cfg.lr, min_lr=cfg.min_lr,
                                      warmup_steps=self.warmup, total_steps=self.total_steps)
        self.spikes = SpikeDetector(cfg.spike)
        self.train_loader = self.make_loader("train", cfg.micro_batch_size, cfg.seq_len,
                                             d.rank, d.world_size, cfg.seed)
        self.train_iter = iter(self.train_loader)
        self.step = self.tokens = 0
        self.rollbacks = 0
        self.best_val, self.bad_evals = math.inf, 0
        self.done_snapshots: list[int] = []
        # losses of the steps since the last metrics row (checkpointed, so a resume between
        # two rows logs the same interval mean as the uninterrupted run)
        self.interval_losses: list[float] = []

    def _trainer_state(self) -> dict:
        return {"scheduler": self.scheduler.state_dict(), "spikes": self.spikes.state_dict(),
                "step": self.step, "tokens": self.tokens, "rollbacks": self.rollbacks,
                "best_val": self.best_val, "bad_evals": self.bad_evals,
                "done_snapshots": list(self.done_snapshots),
                "interval_losses": list(self.interval_losses)}

    def _load_trainer_state(self, state: dict) -> None:
        self.scheduler.load_state_dict(state["scheduler"])
        self.spikes.load_state_dict(state["spikes"])
        self.step, self.tokens = state["step"], state["tokens"]
        self.rollbacks = state["rollbacks"]
        self.best_val, self.bad_evals = state["best_val"], state["bad_evals"]
        self.done_snapshots = list(state["done_snapshots"])
        self.interval_losses = list(state.get("interval_losses", []))

    def save(self) -> None:
        ckpt.save_checkpoint(
            self.ck_dir, step=self.step, tokens=self.tokens, model=self.model,
            optimizer=self.optimizer, trainer_state=self._trainer_state(),
            rank_state={"loader": self.train_loader.state_dict()},
            meta={"label": self.label, "train_config": self.cfg.to_dict(), **self.extra_meta},
            keep_last=self.cfg.keep_last)

    def _resume(self) -> bool:
        found = ckpt.latest_checkpoint(self.ck_dir)
        if found is None:
            return False
        state, rank_state, _ = ckpt.load_checkpoint(found.path, model=self.model,
                                                     optimizer=self.optimizer)
        self._load_trainer_state(state)
        self.train_loader.load_state_dict(rank_state["loader"])
        self.train_iter = iter(self.train_loader)
        if self.d.is_main:
            dropped = truncate_after(self.ck_dir / "metrics.csv", self.step)
            log.info("resumed from %s (step %d, %d tokens); %d metrics rows after it dropped",
                     found.path, self.step, self.tokens, dropped)
        return True

    # --- one optimizer step -----------------------------------------------------------
    def _autocast(self):
        return torch.autocast(self.d.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def _train_step(self) -> tuple[float, float]:
        """Forward/backward over `accum` micro-batches; returns (mean loss, grad norm).

        Does not update the weights: the caller decides after looking at the loss.
        """
        total = torch.zeros((), device=self.d.device)
        for _ in range(self.accum):
            x, y = next(self.train_iter)
            x, y = x.to(self.d.device, non_blocking=True), y.to(self.d.device, non_blocking=True)
            with self._autocast():
                loss = self.model.loss(x, y) / self.accum
            loss.backward()
            total += loss.detach()
        if self.fsdp:
            dist.all_reduce(total, op=dist.ReduceOp.AVG)
        clip = self.cfg.grad_clip if self.cfg.grad_clip > 0 else math.inf
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        if hasattr(norm, "full_tensor"):  # DTensor under FSDP2
            norm = norm.full_tensor()
        return float(total), float(norm)

    def _oom_message(self, err: BaseException) -> str:
        d = self.d.device
        if d.type == "cuda":
            total = torch.cuda.get_device_properties(d).total_memory / 2**30
            used = torch.cuda.max_memory_allocated(d) / 2**30
            mem = f"{torch.cuda.get_device_name(d)} with {total:.1f} GiB (peak {used:.1f} GiB used)"
        else:
            mem = f"CPU (peak RSS {memory_gb(d):.1f} GB)"
        return (f"out of memory pretraining {self.label} ({self.n_params / 1e6:.1f}M parameters), "
                f"micro_batch_size {self.cfg.micro_batch_size} x seq_len {self.cfg.seq_len} "
                f"(global batch {self.cfg.batch_size}, {self.accum} accumulation step(s), "
                f"{self.d.world_size} rank(s)) on {mem}. Lower pretrain.micro_batch_size (the "
                f"global batch is kept by accumulation), set activation_checkpointing: true, "
                f"or use more GPUs. Cause: {err}")

    # --- rollback ---------------------------------------------------------------------
    def _rollback(self, reason: str, loss: float, metrics: MetricsLog | None) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        found = ckpt.latest_checkpoint(self.ck_dir)
        if found is None:
            raise TrainingFailed(f"{reason} loss {loss} at step {self.step + 1} and no checkpoint "
                                 "to return to")
        if self.rollbacks >= self.cfg.spike.max_rollbacks:
            raise TrainingFailed(
                f"{reason} loss {loss} at step {self.step + 1}: already rolled back "
                f"{self.rollbacks} times (pretrain.spike.max_rollbacks); lower pretrain.lr or "
                "inspect the data")
        failed_step, rollbacks = self.step + 1, self.rollbacks + 1
        loader_state = self.train_loader.state_dict()  # keep moving forward: skip the window
        state, _, _ = ckpt.load_checkpoint(found.path, model=self.model, optimizer=self.optimizer,
                                           restore_rank_state=False)
        self._load_trainer_state(state)
        self.rollbacks = rollbacks
        self.train_loader.load_state_dict(loader_state)
        self.train_iter = iter(self.train_loader)
        skipped = (failed_step - self.step) * self.tokens_per_step
        log.warning("%s loss %.4g at step %d: rolled back to step %d (%s), skipping the %d "
                    "training tokens since it (rollback %d of at most %d)", reason, loss,
                    failed_step, self.step, found.path.name, skipped, self.rollbacks,
                    self.cfg.spike.max_rollbacks)
        if self.d.is_main:
            truncate_after(self.ck_dir / "metrics.csv", self.step)
            if metrics is not None:
                metrics.reopen()  # the file was rewritten by the truncation
                metrics.write("event", self.step, self.tokens, name=f"rollback:{reason}",
                              value=failed_step, loss=loss if math.isfinite(loss) else "")
        self.save()  # make the skip durable: a crash now resumes past the bad window

    # --- validation and snapshots -----------------------------------------------------
    @staticmethod
    def _is_oom(err: RuntimeError) -> bool:
        return (isinstance(err, torch.OutOfMemoryError) or "out of memory" in str(err)
                or "can't allocate memory" in str(err))

    @torch.no_grad()
    def evaluate(self) -> float:
        cfg, d = self.cfg, self.d
        self.model.eval()
        loader = self.make_loader("val", cfg.micro_batch_size, cfg.seq_len, d.rank,
                                  d.world_size, cfg.seed)
        total = torch.zeros(2, device=d.device)
        try:
            for i, (x, y) in enumerate(loader):
                if i >= cfg.eval_batches:
                    break
                with self._autocast():
                    total[0] += self.model.loss(x.to(d.device), y.to(d.device)).float()
                total[1] += 1
        except RuntimeError as err:  # torch.OutOfMemoryError is one
            if self._is_oom(err):  # named like one in a training step, at any validation pass
                raise TrainingFailed(self._oom_message(err)) from err
            raise
        if self.fsdp:
            dist.all_reduce(total)
        self.model.train()
        if total[1] == 0:
            raise TrainingFailed("the validation split gave no batch; check the val shards")
        return float(total[0] / total[1])

    def _full_model(self) -> nn.Module | None:
        """An unsharded copy of the model on CPU on rank 0 (None elsewhere); collective."""
        if not self.fsdp:
            return self.model
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        sd = get_model_state_dict(self.model, options=StateDictOptions(
            full_state_dict=True, cpu_offload=True))
        if not self.d.is_main:
            return None
        model = self.build_model()
        model.load_state_dict(sd)
        return model

    def _publish_hf(self, out_dir: Path, extra: dict) -> None:
        model = self._full_model()
        if self.d.is_main and self.save_hf is not None:
            with published_dir(out_dir) as tmp:  # never missing, never half written
                self.save_hf(model, tmp, {"tokens_seen": self.tokens, "step": self.step,
                                          "label": self.label, "train_config": self.cfg.to_dict(),
                                          **self.extra_meta, **extra})

    def _snapshot(self, i: int, metrics: MetricsLog | None) -> None:
        self._publish_hf(self.ck_dir / "snapshots" / str(i), {"snapshot": i})
        if self.eval_hook is not None:
            self.model.eval()
            results = self.eval_hook(self.model, self.step, self.tokens)
            self.model.train()
            if metrics is not None:
                for name, value in results.items():
                    metrics.write("eval", self.step, self.tokens, name=name, value=value)
        self.done_snapshots.append(i)

    # --- the loop ---------------------------------------------------------------------
    def _check_kernels(self) -> dict:
        """Compare the Triton kernels the model uses with PyTorch at this run's shapes and
        precision; a failing one is switched to PyTorch (lang1core.model.selfcheck). The
        report joins the run's metadata (checkpoints, lang1.json of every published model)."""
        from lang1core.model.config import ModelConfig
        from lang1core.model.selfcheck import guard_kernels

        mc = getattr(self.model, "config", None)
        if not isinstance(mc, ModelConfig):
            return {}
        # under FSDP with bf16 the blocks compute on bfloat16 copies of the parameters
        dtype = torch.bfloat16 if self.fsdp and self.bf16 else next(self.model.parameters()).dtype
        report = guard_kernels(mc, self.d.device, dtype=dtype, autocast=self.bf16, seq_len=self.cfg.seq_len,
                               what=f"pretraining {self.label}")
        if report:
            self.extra_meta["kernel_check"] = report
        return report

    def fit(self) -> TrainResult:
        """Train to the token budget (or early stop), resuming from the newest checkpoint;
        publish the snapshots and final/."""
        self._setup()
        kernel_report = self._check_kernels()
        resumed = self._resume()
        metrics = self._open_metrics(kernel_report)
        if not resumed:
            self._start(metrics)
        result = TrainResult(self.step, self.tokens, None)
        first_step = self.step  # result.losses[i] is the loss of step first_step + i + 1
        bar = self._progress_bar()
        self.model.train()
        clock = _Throughput()
        early = False
        while self.step < self.total_steps and not early:
            lr = self.scheduler.apply()
            loss, norm = self._guarded_train_step()
            reason = self.spikes.check(loss) or (None if math.isfinite(norm) else "non-finite")
            if reason:
                self._rollback(reason, loss, metrics)
                result.rollbacks = self.rollbacks
                del result.losses[max(0, self.step - first_step):]
                clock.reset()
                if bar is not None:
                    bar.n = self.step
                continue
            self._apply_step(loss)
            clock.tokens += self.tokens_per_step
            result.losses.append(loss)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.2e}")
            last = self.step == self.total_steps
            if self.step % self.cfg.log_interval == 0 or last:
                self._log_train(metrics, lr, norm, clock)
            with clock.paused():
                early = self._validate(metrics, last)
                if self.step in self.snapshot_steps:
                    self._snapshot(self.snapshot_steps[self.step], metrics)
                if (self.ckpt_every_steps and self.step % self.ckpt_every_steps == 0) or last or early:
                    self.save()
            if self.step_callback is not None:
                self.step_callback(self)
        if bar is not None:
            bar.close()
        self._finish(metrics, early)
        result.step, result.tokens, result.final_dir = self.step, self.tokens, self.run_dir / "final"
        result.rollbacks, result.early_stopped = self.rollbacks, early
        return result

    # --- the loop's steps -------------------------------------------------------------
    def _open_metrics(self, kernel_report: dict) -> MetricsLog | None:
        """The live metrics log (rank 0 only), opened with the kernel self-check's verdicts."""
        if not self.d.is_main:
            return None
        metrics = MetricsLog(self.ck_dir / "metrics.csv",
                             self.ck_dir / "tensorboard" if self.cfg.tensorboard else None)
        for kernel, res in kernel_report.get("kernels", {}).items():
            # kernel_ok:<kernel> or kernel_fallback:<kernel>, value = worst relative error
            metrics.write("event", self.step, self.tokens,
                          name=f"kernel_{'ok' if res['ok'] else 'fallback'}:{kernel}",
                          value=res.get("relative_error", ""))
        return metrics

    def _start(self, metrics: MetricsLog | None) -> None:
        """A fresh run: say what it trains, checkpoint step 0 (the first rollback target) and
        record where the validation loss starts, so a run shows how far pretraining took it."""
        cfg, d = self.cfg, self.d
        log.info("pretraining %s: %.1fM parameters, %d steps x %d tokens (batch %d = %d "
                 "micro x %d rank(s) x %d accumulation), %s on %s", self.label,
                 self.n_params / 1e6, self.total_steps, self.tokens_per_step, cfg.batch_size,
                 cfg.micro_batch_size, d.world_size, self.accum,
                 "bf16 autocast" if self.bf16 else "fp32", d.device)
        self.save()
        if cfg.eval_interval:
            val0 = self.evaluate()  # every rank evaluates (the loss is all-reduced); rank 0 writes
            if metrics is not None:
                metrics.write("val", 0, 0, loss=val0)

    def _progress_bar(self):
        if not self.progress:
            return None
        from tqdm import tqdm

        return tqdm(total=self.total_steps, initial=self.step, unit="step", desc=f"pretrain {self.label}")

    def _guarded_train_step(self) -> tuple[float, float]:
        """_train_step, with an out-of-memory error or a dead peer rank named for the user."""
        cfg, d = self.cfg, self.d
        try:
            return self._train_step()
        except RuntimeError as err:  # torch.OutOfMemoryError is one
            if self._is_oom(err):
                raise TrainingFailed(self._oom_message(err)) from err
            if self.fsdp:
                raise TrainingFailed(
                    f"rank {d.rank}/{d.world_size} pretraining {self.label} (micro_batch_size "
                    f"{cfg.micro_batch_size}) failed in a collective at step {self.step + 1}; "
                    f"another rank most likely died (out of memory or killed): see the first "
                    f"error in the log / torchrun summary. Cause: {err}") from err
            raise

    def _apply_step(self, loss: float) -> None:
        """Update the weights with the accepted step's gradients and advance the counters."""
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        self.spikes.accept(loss)
        self.step += 1
        self.tokens += self.tokens_per_step
        self.interval_losses.append(loss)

    def _log_train(self, metrics: MetricsLog | None, lr: float, norm: float, clock: "_Throughput") -> None:
        """One `train` row: the interval's mean loss, throughput and MFU; starts a new interval."""
        d = self.d
        if d.device.type == "cuda":
            torch.cuda.synchronize()
        tps = clock.tokens_per_s()
        mfu = self.flops_per_token * tps / (self.peak * d.world_size) if self.peak else ""
        if metrics is not None:
            metrics.write("train", self.step, self.tokens,
                          loss=sum(self.interval_losses) / len(self.interval_losses), lr=lr,
                          grad_norm=norm, tokens_per_s=tps, mfu=mfu, memory_gb=memory_gb(d.device))
        clock.reset()
        self.interval_losses = []

    def _validate(self, metrics: MetricsLog | None, last: bool) -> bool:
        """Validation at its interval (and at the end); True when patience ran out."""
        cfg = self.cfg
        if not ((cfg.eval_interval and self.step % cfg.eval_interval == 0) or last):
            return False
        val = self.evaluate()
        if metrics is not None:
            metrics.write("val", self.step, self.tokens, loss=val)
        if val < self.best_val:
            self.best_val, self.bad_evals = val, 0
        else:
            self.bad_evals += 1
        if not (cfg.patience and self.bad_evals >= cfg.patience and not last):
            return False
        log.info("early stop at step %d: validation loss %.4f has not improved on %.4f for %d "
                 "evaluations", self.step, val, self.best_val, self.bad_evals)
        if metrics is not None:
            metrics.write("event", self.step, self.tokens, name="early_stop", value=self.best_val)
        return True

    def _finish(self, metrics: MetricsLog | None, early: bool) -> None:
        """Snapshots not reached (early stop) get the final weights; publish final/, and on
        rank 0 copy metrics.csv and the snapshots out of checkpoints/."""
        for _, i in sorted(self.snapshot_steps.items()):
            if i not in self.done_snapshots:
                self._snapshot(i, metrics)
        self._publish_hf(self.run_dir / "final", {"early_stopped": early, "rollbacks": self.rollbacks,
                                                  "best_val_loss": self.best_val})
        if self.d.is_main:
            metrics.close()
            with published_file(self.run_dir / "metrics.csv") as tmp:
                shutil.copyfile(self.ck_dir / "metrics.csv", tmp)
            if self.done_snapshots:
                (self.run_dir / "snapshots").mkdir(parents=True, exist_ok=True)
            for i in sorted(self.done_snapshots) if self.save_hf is not None else []:
                with published_dir(self.run_dir / "snapshots" / str(i)) as tmp:
                    shutil.copytree(self.ck_dir / "snapshots" / str(i), tmp, dirs_exist_ok=True)
        if self.fsdp:
            dist.barrier()


class _Throughput:
    """Training tokens per second since the last reset, not counting paused time
    (validation, snapshots, checkpoints)."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.t0, self.paused_s, self.tokens = time.perf_counter(), 0.0, 0

    @contextmanager
    def paused(self):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.paused_s += time.perf_counter() - t

    def tokens_per_s(self) -> float:
        dt = time.perf_counter() - self.t0 - self.paused_s
        return self.tokens / dt if dt > 0 else float("nan")
