"""Training throughput and model-FLOPs utilisation of a preset on this machine.

    python bench/train.py --preset debug                      # CPU: float32
    python bench/train.py --preset tinyllama-1b --seq-len 2048 --micro-batch 4 --compile
    torchrun --nproc_per_node 8 bench/train.py --preset tinyllama-1b ...   # FSDP

Runs the real trainer (optimizer, clipping, autocast, FSDP when launched with torchrun) on
random tokens for --steps steps and prints the median tokens/s and MFU of the timed steps
(the first --warmup steps, which include compilation, are not timed). MFU uses the
device's dense bf16 peak (lang1core.train.metrics.PEAK_BF16); on CPU, where no peak is
known, it is reported against --peak-tflops if given, else against a float32 matmul measured here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see workflow/scripts/pretrain.py

import torch  # noqa: E402 - after the OpenMP setting above

from lang1core.model import Llama, ModelConfig  # noqa: E402 - after the OpenMP setting above
from lang1core.train import TrainConfig, Trainer  # noqa: E402 - after the OpenMP setting above
from lang1core.train.parallel import init_distributed  # noqa: E402 - after the OpenMP setting above


class RandomTokens:
    """Random tokens; batch n depends only on (seed, rank, n), so a resumed run continues
    with exactly the batches it would have seen."""

    vocab = 32000

    def __init__(self, split, batch_size, seq_len, rank, world_size, seed):
        self.seed, self.rank = seed + (0 if split == "train" else 7919), rank
        self.B, self.T = batch_size, seq_len
        self.n = 0

    def __iter__(self):
        return self

    def __next__(self):
        g = torch.Generator().manual_seed((self.seed * 1_000_003 + self.rank) * 1_000_003 + self.n)
        x = torch.randint(0, self.vocab, (self.B, self.T + 1), generator=g)
        self.n += 1
        return x[:, :-1], x[:, 1:]

    def state_dict(self):
        return {"n": self.n}

    def load_state_dict(self, state):
        self.n = state["n"]


def measured_matmul_flops(n: int = 1024, reps: int = 10) -> float:
    """FLOP/s of a float32 n x n matmul on this CPU: the denominator for a CPU 'MFU'
    (no data-sheet peak applies to a shared, frequency-scaled CPU)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t)


def measure_training(preset: str, *, seq_len: int | None = None, micro_batch: int = 8, accum: int = 1,
                     steps: int = 20, warmup: int = 5, attention: str | None = None, norm: str | None = None,
                     loss: str | None = None,
                     compile: bool = False, activation_checkpointing: bool = False, precision: str = "auto",
                     vocab_size: int | None = None, peak_tflops: float | None = None, dist_info=None) -> dict:
    """Train `preset` on random tokens for warmup + steps steps with the real trainer (no
    evaluation, no checkpoints) and return the median tokens/s and MFU of the timed steps."""
    d = dist_info or init_distributed()
    overrides = {k: v for k, v in (("attention", attention), ("norm", norm), ("loss", loss),
                                                 ("vocab_size", vocab_size)) if v}
    mcfg = ModelConfig.from_preset(preset, **overrides)
    T = seq_len or mcfg.max_seq_len
    if T > mcfg.max_seq_len:  # RoPE extends to any length; say what was measured
        mcfg = ModelConfig.from_preset(preset, **overrides, max_seq_len=T)
    batch = micro_batch * accum * d.world_size
    cfg = TrainConfig(tokens=(steps + warmup) * batch * T, seq_len=T, batch_size=batch,
                      micro_batch_size=micro_batch, warmup_steps=10, log_interval=1,
                      eval_interval=0, checkpoint_every_tokens=0, keep_last=1,
                      precision=precision, compile=compile,
                      activation_checkpointing=activation_checkpointing)
    cfg.spike.max_rollbacks = 0
    times: list[float] = []
    last = [time.perf_counter()]

    def tick(trainer):
        if trainer.d.device.type == "cuda":
            torch.cuda.synchronize()
        now = time.perf_counter()
        if trainer.step > warmup:
            times.append(now - last[0])
        last[0] = now

    RandomTokens.vocab = mcfg.vocab_size
    if d.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(d.device)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, lambda: Llama(mcfg), RandomTokens, tmp, dist_info=d,
                          progress=False, label=preset, step_callback=tick)
        # nothing but training is timed, and a 1B model's checkpoints (13 GB each) are not written
        trainer.evaluate = lambda: 0.0
        trainer.save = lambda: None
        trainer.fit()
    tps = batch * T / statistics.median(times)
    peak, peak_src = trainer.peak, "data sheet bf16"
    if peak_tflops:
        peak, peak_src = peak_tflops * 1e12, "--peak-tflops"
    elif peak is None:
        peak, peak_src = measured_matmul_flops(), "measured fp32 matmul"
    result = {
        "preset": preset, "params": trainer.n_params, "seq_len": T, "micro_batch": micro_batch, "accum": accum,
        "world": d.world_size, "precision": "bf16" if trainer.bf16 else "fp32", "compile": compile,
        "activation_checkpointing": activation_checkpointing, "attention": mcfg.attention, "norm": mcfg.norm,
        "loss": mcfg.loss,
        "kernel_fallback": trainer.extra_meta.get("kernel_check", {}).get("fallback", []),
        "tokens_per_s": tps, "mfu": trainer.flops_per_token * tps / (peak * d.world_size),
        "peak_tflops": peak / 1e12, "peak_source": peak_src, "flops_per_token": trainer.flops_per_token,
        "peak_mem_gib": (torch.cuda.max_memory_allocated(d.device) / 2**30 if d.device.type == "cuda" else None),
        "device": (torch.cuda.get_device_name(d.device) if d.device.type == "cuda"
                   else f"CPU ({torch.get_num_threads()} threads)"),
    }
    del trainer
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="debug")
    p.add_argument("--seq-len", type=int, default=None, help="default: the preset's context")
    p.add_argument("--micro-batch", type=int, default=8)
    p.add_argument("--accum", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--attention", default=None, help="triton | sdpa | eager")
    p.add_argument("--norm", default=None, help="triton | torch")
    p.add_argument("--loss", default=None, help="fused | torch")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--activation-checkpointing", action="store_true")
    p.add_argument("--precision", default="auto")
    p.add_argument("--vocab-size", type=int, default=None, help="default: the preset's (32000)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--peak-tflops", type=float, default=None, help="per device, for MFU on CPU")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    d = init_distributed()
    r = measure_training(a.preset, seq_len=a.seq_len, micro_batch=a.micro_batch, accum=a.accum, steps=a.steps,
                         warmup=a.warmup, attention=a.attention, norm=a.norm, loss=a.loss, compile=a.compile,
                         activation_checkpointing=a.activation_checkpointing, precision=a.precision,
                         vocab_size=a.vocab_size, peak_tflops=a.peak_tflops, dist_info=d)
    if d.is_main:
        print(f"preset={r['preset']} params={r['params'] / 1e6:.1f}M seq_len={r['seq_len']} "
              f"micro_batch={r['micro_batch']} accum={r['accum']} world={r['world']} "
              f"precision={r['precision']} compile={r['compile']} "
              f"activation_checkpointing={r['activation_checkpointing']} "
              f"attention={r['attention']} norm={r['norm']} loss={r['loss']} device={r['device']}")
        mem = f"{r['peak_mem_gib']:.1f} GiB" if r["peak_mem_gib"] is not None else "n/a"
        print(f"tokens/s={r['tokens_per_s']:,.0f} (all ranks)  tokens/s/device={r['tokens_per_s'] / r['world']:,.0f}  "
              f"MFU={100 * r['mfu']:.1f}% of {r['peak_tflops']:.3g} TFLOP/s ({r['peak_source']})  peak_mem={mem}  "
              f"flops/token={r['flops_per_token']:.3g}")


if __name__ == "__main__":
    main()
