"""The sections of bench/gpu_check.py: what each measures, at which shapes, against which goal.

A section is run(ctx, emit): it measures and emits Rows one at a time (the runner keeps the
rows of a section that later runs out of time). Goals, from the project's benchmarks:
attention fwd+bwd >= 1.0x SDPA's default backend; fused linear-CE <= 0.35x eager's peak
memory at <= 1.2x its time; TinyLlama-1B training MFU >= 45%; FSDP2 resume exact.
"""

from __future__ import annotations

import gc
import math
import os
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

PASS, FAIL, INFO = "PASS", "FAIL", "INFO"


@dataclass
class Row:
    """One line of the table. `value` is the number behind `measured` (JSON consumers)."""

    section: str
    check: str
    setting: str
    measured: str
    goal: str = ""
    status: str = INFO  # PASS | FAIL | INFO (not judged)
    value: float | None = None


@dataclass
class Section:
    name: str
    title: str
    budget_s: int
    run: object  # run(ctx, emit)


@dataclass
class Context:
    device: torch.device
    quick: bool = False
    kernel_dtypes: tuple = (torch.bfloat16, torch.float16)
    kernel_size: str = "gpu"  # lang1core.kernels.checks.suite size
    extra: dict = field(default_factory=dict)

    @classmethod
    def for_device(cls, quick: bool) -> "Context":
        # an explicit index: NCCL's device_id and the memory counters want one
        return cls(torch.device("cuda", torch.cuda.current_device()), quick, kernel_size="quick" if quick else "gpu")

    def judge(self, ok: bool, performance: bool = False) -> str:
        """Performance goals hold for the full shapes only: under --quick they are shown, not judged."""
        if performance and self.quick:
            return INFO
        return PASS if ok else FAIL


def _bench(name: str):
    """bench/<name>.py as a module, loaded by path so that it works however this file was
    imported."""
    import importlib.util
    import sys

    key = f"bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name(f"{name}.py"))
        sys.modules[key] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[key])
    return sys.modules[key]


def _free(ctx: Context) -> None:
    gc.collect()
    if ctx.device.type == "cuda":
        torch._dynamo.reset()
        torch.cuda.empty_cache()


# --- 1. kernels against their references ---------------------------------------------------------
def kernels(ctx: Context, emit) -> None:
    from lang1core.kernels.checks import suite

    for dtype in ctx.kernel_dtypes:
        for compare in suite(ctx.device, dtype, ctx.kernel_size):
            try:
                c = compare()
            except Exception as err:  # a kernel that cannot run a shape fails that row only
                emit(Row("kernels", "kernel vs reference", str(dtype), f"{type(err).__name__}: {err}"[:160],
                         "runs", FAIL))
                continue
            q, rel = c.worst
            emit(Row("kernels", f"{c.kernel} vs reference", c.setting, f"{q} {rel:.2g} of scale",
                     f"<= {c.tolerance:g}", ctx.judge(c.ok), rel))


# --- 2. attention speed ---------------------------------------------------------------------------
def attention_speed(ctx: Context, emit) -> None:
    measure_attention = _bench("kernel_speed").measure_attention

    B, H, KH, T = (2, 8, 2, 512) if ctx.quick else (8, 32, 4, 2048)
    for D in (64, 128):
        setting = f"B{B} H{H} KV{KH} T{T} D{D} causal bf16"
        res = measure_attention(B, H, KH, T, D, reps=5 if ctx.quick else 20)
        for impl, r in res.items():
            if "error" in r:
                emit(Row("attention", f"{impl} fwd+bwd TFLOP/s", setting, f"unavailable: {r['error']}"))
                continue
            note = f" ({r['note']})" if r["note"] else ""
            emit(Row("attention", f"{impl} fwd TFLOP/s", setting + note, f"{r['fwd_tflops']:.1f}",
                     value=r["fwd_tflops"]))
            emit(Row("attention", f"{impl} fwd+bwd TFLOP/s", setting + note, f"{r['fwdbwd_tflops']:.1f}",
                     value=r["fwdbwd_tflops"]))
        ours = res.get("triton", {})
        emit(Row("attention", "triton max |out - sdpa out|", setting, f"{ours.get('max_diff', math.nan):.2g}",
                 "<= 0.05", ctx.judge(ours.get("max_diff", math.inf) <= 0.05), ours.get("max_diff")))
        for impl in ("sdpa", "sdpa-flash", "sdpa-cudnn"):
            other = res.get(impl, {})
            if "error" in other or "error" in ours or not other:
                continue
            for kind in ("fwd", "fwdbwd"):
                ratio = other[f"{kind}_ms"] / ours[f"{kind}_ms"]
                judged = impl == "sdpa" and kind == "fwdbwd"  # the goal: SDPA's own choice, training
                emit(Row("attention", f"triton {'fwd+bwd' if kind == 'fwdbwd' else 'fwd'} speed vs {impl}", setting,
                         f"{ratio:.2f}x", ">= 1.0x" if judged else "",
                         ctx.judge(ratio >= 1.0, performance=True) if judged else INFO, ratio))


# --- 3. fused linear + cross-entropy ---------------------------------------------------------------
def fused_ce(ctx: Context, emit) -> None:
    measure_cross_entropy = _bench("kernel_speed").measure_cross_entropy

    N, D, V = (2048, 512, 8000) if ctx.quick else (16384, 2048, 32000)
    setting = f"N{N} H{D} V{V} bf16 fwd+bwd"
    res = measure_cross_entropy(N, D, V, reps=3 if ctx.quick else 10)
    for impl, r in res.items():
        emit(Row("fused_ce", f"{impl} peak memory", setting, f"{r['peak_mib']:.0f} MiB", value=r["peak_mib"]))
        emit(Row("fused_ce", f"{impl} time", setting, f"{r['ms']:.2f} ms", value=r["ms"]))
    f, e, c = res["fused"], res["eager"], res["compiled"]
    diff = abs(f["loss"] - e["loss"])
    emit(Row("fused_ce", "fused |loss - eager loss|", setting, f"{diff:.2g}", "<= 1e-2 x loss",
             ctx.judge(diff <= 1e-2 * abs(e["loss"])), diff))
    mem, t = f["peak_mib"] / e["peak_mib"], f["ms"] / e["ms"]
    emit(Row("fused_ce", "fused/eager peak memory", setting, f"{mem:.2f}x", "<= 0.35x",
             ctx.judge(mem <= 0.35, performance=True), mem))
    emit(Row("fused_ce", "fused/eager time", setting, f"{t:.2f}x", "<= 1.2x", ctx.judge(t <= 1.2, performance=True), t))
    emit(Row("fused_ce", "fused/compiled peak memory", setting, f"{f['peak_mib'] / c['peak_mib']:.2f}x"))
    emit(Row("fused_ce", "fused/compiled time", setting, f"{f['ms'] / c['ms']:.2f}x"))


# --- 4. trainer throughput ---------------------------------------------------------------------------
# (preset, micro-batch, compile, activation checkpointing); the paper config's kernels (triton
# attention, fused loss) in bf16 at context 2048
TRAIN_RUNS = [("tinyllama-1b", 8, False, False), ("tinyllama-1b", 8, True, False), ("tinyllama-1b", 8, True, True),
              ("smol-100m", 16, False, False), ("smol-100m", 16, True, False)]
QUICK_TRAIN_RUNS = [("smol-100m", 2, False, False), ("smol-100m", 2, True, True)]
MFU_GOAL = 0.45


def trainer(ctx: Context, emit) -> None:
    measure_training = _bench("train").measure_training

    from lang1core.train.parallel import DistInfo

    T, steps, warmup = (512, 2, 2) if ctx.quick else (2048, 5, 3)
    best: dict[str, float] = {}
    runs = QUICK_TRAIN_RUNS if ctx.quick else TRAIN_RUNS
    for i, (preset, mb, comp, ac) in enumerate(runs):
        how = "+".join(x for x, on in (("compile", comp), ("AC", ac)) if on) or "eager"
        setting = f"{preset} T{T} mb{mb} bf16 {how}"
        r = measure_training(preset, seq_len=T, micro_batch=mb, steps=steps, warmup=warmup, attention="triton",
                             norm="triton", loss="fused", compile=comp, activation_checkpointing=ac, precision="bf16",
                             dist_info=DistInfo(0, 0, 1, ctx.device))
        mem = f", {r['peak_mem_gib']:.0f} GiB" if r["peak_mem_gib"] is not None else ""
        emit(Row("trainer", "tokens/s", setting, f"{r['tokens_per_s']:,.0f}{mem}", value=r["tokens_per_s"]))
        emit(Row("trainer", "MFU", setting, f"{100 * r['mfu']:.1f}% of {r['peak_tflops']:.3g} TFLOP/s",
                 value=r["mfu"]))
        if r["kernel_fallback"]:  # the self-check switched a kernel off: wrong on this GPU
            emit(Row("trainer", "kernel self-check", setting, f"fell back: {', '.join(r['kernel_fallback'])}",
                     "no fallback", FAIL))
        best[preset] = max(best.get(preset, 0.0), r["mfu"])
        last_of_preset = i + 1 == len(runs) or runs[i + 1][0] != preset
        if last_of_preset and preset == "tinyllama-1b":
            emit(Row("trainer", "best MFU", f"{preset} T{T} bf16", f"{100 * best[preset]:.1f}%",
                     f">= {100 * MFU_GOAL:.0f}%", ctx.judge(best[preset] >= MFU_GOAL, performance=True),
                     best[preset]))
        _free(ctx)


# --- 5. FSDP2 on one GPU: steps, a checkpoint, an exact resume ---------------------------------------
class _Stop(Exception):
    """Raised from the step callback to end a run the way a killed job would."""


def _init_single_process_group(device: torch.device) -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    if device.type == "cuda":
        dist.init_process_group("nccl", rank=0, world_size=1, device_id=device)
    else:
        dist.init_process_group("gloo", rank=0, world_size=1)


def fsdp_resume(ctx: Context, emit, model_cfg=None, seq_len: int | None = None, micro_batch: int | None = None,
                precision: str = "bf16") -> None:
    """FSDP2 (NCCL, one process) trains 6 steps with checkpoints every 3; a second run is
    stopped after step 3 and resumed from its sharded checkpoint: steps 4-6 must give
    bit-identical losses. `model_cfg`, `seq_len`, `micro_batch` and `precision` let the
    tests run it on CPU (gloo) at toy size."""
    import torch.distributed as dist

    from lang1core.model import Llama, ModelConfig
    from lang1core.train import TrainConfig, Trainer
    from lang1core.train.parallel import DistInfo

    RandomTokens = _bench("train").RandomTokens
    if model_cfg is None:
        preset = "debug" if ctx.quick else "smol-100m"
        model_cfg = ModelConfig.from_preset(preset, attention="triton", norm="triton", loss="fused",
                                            tie_embeddings=False, max_seq_len=1024)
    T = seq_len or (256 if ctx.quick else 1024)
    mb = micro_batch or (2 if ctx.quick else 8)
    steps, stop_at = 6, 3
    impls = f"{model_cfg.attention}/{model_cfg.norm}/{model_cfg.loss}"
    setting = f"{model_cfg.n_layers}L d{model_cfg.dim} T{T} mb{mb} {precision} {impls}"
    _init_single_process_group(ctx.device)
    try:
        d = DistInfo(0, 0, 1, ctx.device)
        cfg = TrainConfig(tokens=steps * mb * T, seq_len=T, batch_size=mb, micro_batch_size=mb, lr=1e-3,
                          warmup_steps=1, log_interval=1, eval_interval=0, eval_batches=1,
                          checkpoint_every_tokens=stop_at * mb * T, keep_last=3, precision=precision)
        cfg.spike.max_rollbacks = 0
        RandomTokens.vocab = model_cfg.vocab_size

        def build():
            return Llama(model_cfg)

        def stop(trainer):
            if trainer.step == stop_at:
                raise _Stop

        with tempfile.TemporaryDirectory() as tmp:
            full = Trainer(cfg, build, RandomTokens, Path(tmp, "full"), dist_info=d, progress=False,
                           fsdp=True).fit()
            finite = all(math.isfinite(x) for x in full.losses)
            emit(Row("fsdp", "FSDP2 steps", setting, f"{len(full.losses)} steps, loss {full.losses[0]:.3f} -> "
                     f"{full.losses[-1]:.3f}", f"{steps} finite losses",
                     ctx.judge(len(full.losses) == steps and finite), full.losses[-1]))
            first = Trainer(cfg, build, RandomTokens, Path(tmp, "cut"), dist_info=d, progress=False,
                            fsdp=True, step_callback=stop)
            try:
                first.fit()
            except _Stop:
                pass
            ck = Path(tmp, "cut", "checkpoints", f"step_{stop_at:08d}")
            shards = sorted(p.name for p in ck.glob("model_optim/*")) if ck.exists() else []
            emit(Row("fsdp", "sharded checkpoint", setting, f"step {stop_at}: {len(shards)} files" if shards
                     else "missing", "written", ctx.judge(bool(shards))))
            resumed = Trainer(cfg, build, RandomTokens, Path(tmp, "cut"), dist_info=d, progress=False,
                              fsdp=True).fit()
            want = full.losses[stop_at:]
            same = resumed.losses == want
            gap = max((abs(a - b) for a, b in zip(resumed.losses, want)), default=math.inf)
            emit(Row("fsdp", "exact resume", setting,
                     f"steps {stop_at + 1}-{steps}: max |loss diff| {gap:.3g} ({len(resumed.losses)} steps)",
                     "identical", ctx.judge(same and len(resumed.losses) == steps - stop_at), gap))
    finally:
        dist.destroy_process_group()
        _free(ctx)


# --- 6. scoring ---------------------------------------------------------------------------------------
def scoring(ctx: Context, emit) -> None:
    from lang1core.model.llama import RMSNorm

    build, measure_scoring = _bench("score").build, _bench("score").measure_scoring

    preset, n, bs = ("smol-100m", 64, 16) if ctx.quick else ("tinyllama-1b", 512, 16)
    model, enc = build(preset, 512, n, attention="triton", norm="triton", device=ctx.device)
    for impl in ("triton", "sdpa"):  # the Triton kernels (attention and norm) against PyTorch
        model.config.attention = impl  # shared by every block's attention
        for m in model.modules():
            if isinstance(m, RMSNorm):
                m.use_triton = impl == "triton"
        eps = measure_scoring(model, enc, bs)
        emit(Row("scoring", "examples/s", f"{preset} 512 note tokens, batch {bs}, bf16 autocast, {impl}",
                 f"{eps:.1f}", value=eps))


SECTIONS = {s.name: s for s in [
    Section("kernels", "Triton kernels vs references, bf16 and fp16", 90, kernels),
    Section("attention", "attention TFLOP/s vs SDPA default, flash, cuDNN", 60, attention_speed),
    Section("fused_ce", "fused linear-CE memory and time vs eager, compile", 60, fused_ce),
    Section("trainer", "trainer tokens/s and MFU, smol-100m and tinyllama-1b", 170, trainer),
    Section("fsdp", "FSDP2 over NCCL on one GPU: steps, checkpoint, exact resume", 45, fsdp_resume),
    Section("scoring", "scoring examples/s, tinyllama-1b at 512 note tokens", 40, scoring),
]}
