"""A small pretraining run in its own process, for the kill-and-resume tests.

    python train_run.py RUN_DIR [--die-at-step N] [--die-in-checkpoint-at-step N]

--die-at-step kills the process with SIGKILL right after optimizer step N (no cleanup, as
a preempted job dies); --die-in-checkpoint-at-step kills it in the middle of writing the
checkpoint for step N, after the model shards are on disk but before it is complete.
"""

from __future__ import annotations

import argparse
import os
import signal

import torch

from train_helpers import ArrayLoader, build_model, save_hf

from lang1core.logs import setup_logging
from lang1core.train import TrainConfig, Trainer
from lang1core.train import checkpoint as ckpt
from lang1core.train.parallel import init_distributed

CFG = dict(tokens=30 * 8 * 16, seq_len=16, batch_size=8, micro_batch_size=4, lr=3e-3,
           warmup_steps=3, log_interval=5, eval_interval=10, eval_batches=2,
           checkpoint_every_tokens=4 * 8 * 16, keep_last=2, n_snapshots=2)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("run_dir")
    p.add_argument("--die-at-step", type=int)
    p.add_argument("--die-in-checkpoint-at-step", type=int)
    a = p.parse_args()
    torch.set_num_threads(1)
    setup_logging()

    if a.die_in_checkpoint_at_step is not None:
        real = ckpt._write_meta

        def dying_write_meta(tmp, meta):
            if meta["step"] == a.die_in_checkpoint_at_step:
                os.kill(os.getpid(), signal.SIGKILL)
            real(tmp, meta)

        ckpt._write_meta = dying_write_meta

    def callback(trainer):
        if trainer.step == a.die_at_step:
            os.kill(os.getpid(), signal.SIGKILL)

    trainer = Trainer(TrainConfig(**CFG), build_model, ArrayLoader, a.run_dir,
                      dist_info=init_distributed(), save_hf=save_hf, progress=False,
                      step_callback=callback)
    trainer.fit()


if __name__ == "__main__":
    main()
