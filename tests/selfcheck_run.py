"""A tiny pretraining run with the Triton kernels, in its own process under
TRITON_INTERPRET=1, for the kernel self-check tests (tests/test_model_selfcheck.py).

    python selfcheck_run.py RUN_DIR [--break attention|rmsnorm|fused_linear_ce]

--break replaces that kernel with one whose result is 10% off, as a miscompiled kernel
would be. After training, the model's loss is computed once more with every kernel counted,
and compared with the same weights on the PyTorch paths. Prints RESULT {json}.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from train_helpers import VOCAB, ArrayLoader

from lang1core.finetune.runs import check_kernels, write_run_json
from lang1core.kernels import flash_attention as fa
from lang1core.kernels import fused_linear_ce as ce
from lang1core.kernels import rmsnorm as rn
from lang1core.logs import setup_logging
from lang1core.model import Llama, ModelConfig, hf
from lang1core.model import backends
from lang1core.train import TrainConfig, Trainer
from lang1core.train.parallel import DistInfo

MODEL = dict(vocab_size=VOCAB, dim=64, n_layers=1, n_heads=4, n_kv_heads=2, hidden_dim=96, max_seq_len=16)
KERNELS = {"attention": (fa, "flash_attention"), "rmsnorm": (rn, "rmsnorm"),
           "fused_linear_ce": (ce, "fused_linear_cross_entropy")}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("run_dir")
    p.add_argument("--break", dest="broken", choices=sorted(KERNELS))
    a = p.parse_args()
    torch.set_num_threads(1)
    setup_logging()
    calls = {k: 0 for k in KERNELS}
    for kernel, (module, name) in KERNELS.items():
        real = getattr(module, name)

        def counted(*args, _real=real, _kernel=kernel, **kw):
            calls[_kernel] += 1
            out = _real(*args, **kw)
            return out * 1.1 if _kernel == a.broken else out

        setattr(module, name, counted)

    cfg = ModelConfig(**MODEL, attention="triton", norm="triton", loss="fused")
    train = TrainConfig(tokens=2 * 4 * 16, seq_len=16, batch_size=4, micro_batch_size=4, warmup_steps=1,
                        log_interval=1, eval_interval=0, eval_batches=1, precision="fp32")
    trainer = Trainer(train, lambda: Llama(cfg), ArrayLoader, a.run_dir,
                      dist_info=DistInfo(0, 0, 1, torch.device("cpu")), progress=False,
                      save_hf=lambda m, out, extra: hf.save_pretrained(m, out, extra=extra))
    trainer.fit()
    # scoring and finetuning record the same check in run.json
    write_run_json(Path(a.run_dir) / "scored", {}, 0, model="m", kernel_check=check_kernels(trainer.model, "scoring"))

    x, y = next(ArrayLoader("val", 2, 16))
    for k in calls:
        calls[k] = 0
    with torch.no_grad():
        loss = trainer.model.loss(x, y).item()
        plain = Llama(ModelConfig(**MODEL))
        plain.load_state_dict(trainer.model.state_dict())
        ref = plain.loss(x, y).item()
    print("RESULT " + json.dumps({"calls_after_training": calls, "loss": loss, "reference_loss": ref,
                                  "disabled": sorted(backends.disabled_kernels())}))


if __name__ == "__main__":
    main()
