"""Training throughput and model-FLOPs utilisation of a preset on this machine.

    python bench/train.py --preset debug                      # CPU: float32
    python bench/train.py --preset tinyllama-1b --seq-len 2048 --micro-batch 4 --compile
    torchrun --nproc_per_node 8 bench/train.py --preset tinyllama-1b ...   # FSDP

Runs the real trainer (optimizer, clipping, autocast, FSDP when launched with torchrun) on
random tokens for --steps steps and prints the median tokens/s and MFU of the timed steps
(the first --warmup steps, which include compilation, are not timed). MFU uses the
device's dense bf16 peak (lang1core.train.metrics.PEAK_BF16); on CPU, where no peak is
known, it is reported against --peak-tflops if given, else left out.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from lang1core.model import Llama, ModelConfig
from lang1core.train import TrainConfig, Trainer
from lang1core.train.parallel import init_distributed


class RandomTokens:
    def __init__(self, split, batch_size, seq_len, rank, world_size, seed, vocab=32000):
        self.g = torch.Generator().manual_seed(seed + rank)
        self.B, self.T, self.vocab = batch_size, seq_len, vocab
        self.n = 0

    def __iter__(self):
        return self

    def __next__(self):
        x = torch.randint(0, self.vocab, (self.B, self.T + 1), generator=self.g)
        self.n += 1
        return x[:, :-1], x[:, 1:]

    def state_dict(self):
        return {"n": self.n}

    def load_state_dict(self, state):
        self.n = state["n"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="debug")
    p.add_argument("--seq-len", type=int, default=None, help="default: the preset's context")
    p.add_argument("--micro-batch", type=int, default=8)
    p.add_argument("--accum", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--attention", default=None, help="triton | sdpa | eager")
    p.add_argument("--loss", default=None, help="fused | torch")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--activation-checkpointing", action="store_true")
    p.add_argument("--precision", default="auto")
    p.add_argument("--peak-tflops", type=float, default=None, help="per device, for MFU on CPU")
    a = p.parse_args()

    d = init_distributed()
    overrides = {k: v for k, v in (("attention", a.attention), ("loss", a.loss)) if v}
    mcfg = ModelConfig.from_preset(a.preset, **overrides)
    T = a.seq_len or mcfg.max_seq_len
    batch = a.micro_batch * a.accum * d.world_size
    steps = a.steps + a.warmup
    cfg = TrainConfig(tokens=steps * batch * T, seq_len=T, batch_size=batch,
                      micro_batch_size=a.micro_batch, warmup_steps=10, log_interval=1,
                      eval_interval=0, checkpoint_every_tokens=0, keep_last=1,
                      precision=a.precision, compile=a.compile,
                      activation_checkpointing=a.activation_checkpointing)
    cfg.spike.max_rollbacks = 0
    times: list[float] = []
    last = [time.perf_counter()]

    def tick(trainer):
        if trainer.d.device.type == "cuda":
            torch.cuda.synchronize()
        now = time.perf_counter()
        if trainer.step > a.warmup:
            times.append(now - last[0])
        last[0] = now

    with tempfile.TemporaryDirectory() as tmp:
        # no evaluation or checkpoints inside the timed steps: only the final ones at the end
        trainer = Trainer(cfg, lambda: Llama(mcfg), RandomTokens, tmp, dist_info=d,
                          progress=False, label=a.preset, step_callback=tick)
        trainer.evaluate = lambda: 0.0
        trainer.fit()
    tok_step = batch * T
    tps = tok_step / statistics.median(times)
    peak = trainer.peak or (a.peak_tflops * 1e12 if a.peak_tflops else None)
    mfu = trainer.flops_per_token * tps / (peak * d.world_size) if peak else None
    dev = torch.cuda.get_device_name(d.device) if d.device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    if d.is_main:
        print(f"preset={a.preset} params={trainer.n_params / 1e6:.1f}M seq_len={T} "
              f"micro_batch={a.micro_batch} accum={a.accum} world={d.world_size} "
              f"precision={'bf16' if trainer.bf16 else 'fp32'} compile={a.compile} "
              f"attention={mcfg.attention} loss={mcfg.loss} device={dev}")
        mem = (f"{torch.cuda.max_memory_allocated(d.device) / 2**30:.1f} GiB"
               if d.device.type == "cuda" else "n/a")
        print(f"tokens/s={tps:,.0f} (all ranks)  tokens/s/device={tps / d.world_size:,.0f}  "
              f"MFU={'%.1f%%' % (100 * mfu) if mfu else 'n/a (unknown peak)'}  peak_mem={mem}  "
              f"flops/token={trainer.flops_per_token:.3g}")


if __name__ == "__main__":
    main()
