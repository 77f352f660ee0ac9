"""Entry point of one pretraining run: model preset + token shards + tokenizer -> trainer.

Called in-process by the workflow's script on CPU or one GPU, and once per rank under
torchrun for several GPUs:

    torchrun --standalone --nproc_per_node 8 -m lang1core.train.pretrain spec.json

where spec.json holds the keyword arguments of `pretrain()` (the script writes it).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from lang1core.publish import write_json
from lang1core.train.config import TrainConfig
from lang1core.train.parallel import init_distributed
from lang1core.train.trainer import Trainer, TrainResult

log = logging.getLogger(__name__)


def tokenizer_vocab_size(tokenizer_model: str | Path) -> int:
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_file=str(tokenizer_model)).get_piece_size()


def pretrain(*, run_dir: str, shard_dir: str, tokenizer_model: str, model_section: dict,
             preset: str | None, train: dict, label: str, provenance: dict | None = None,
             progress: bool | None = None) -> TrainResult:
    """Pretrain `preset` on the shards of one mix; write R/pretrain/{model}/ (trainer.py).

    model_section: the workflow's `model:` config (preset, attention, loss, overrides);
    `preset` (the pretrain model's own) wins over the section's. The vocabulary size comes
    from the tokenizer. `train`: TrainConfig fields.
    """
    from lang1core.data import ShardLoader
    from lang1core.model import Llama, ModelConfig
    from lang1core.model import hf

    section = dict(model_section or {})
    if preset:
        section["preset"] = preset
    model_cfg = ModelConfig.from_section(section, vocab_size=tokenizer_vocab_size(tokenizer_model))
    cfg = TrainConfig.from_dict(train)
    if cfg.seq_len > model_cfg.max_seq_len:
        raise ValueError(f"pretrain seq_len {cfg.seq_len} exceeds the {section.get('preset')} "
                         f"preset's max_seq_len {model_cfg.max_seq_len}")
    shards = Path(shard_dir)

    def make_loader(split, batch_size, seq_len, rank, world_size, seed):
        return ShardLoader(shards / split, seq_len=seq_len, batch_size=batch_size, rank=rank,
                           world_size=world_size, seed=seed)

    def save_hf(model, out_dir, extra):
        hf.save_pretrained(model, out_dir, tokenizer_model=tokenizer_model, extra=extra)

    trainer = Trainer(cfg, lambda: Llama(model_cfg), make_loader, run_dir,
                      dist_info=init_distributed(), save_hf=save_hf,
                      label=f"{label} ({section.get('preset', 'debug')} preset)",
                      extra_meta={"model": label, "preset": section.get("preset", "debug"),
                                  "model_config": model_cfg.to_dict(),
                                  "provenance": provenance or {}},
                      progress=progress)
    result = trainer.fit()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return result


def launch(spec: dict[str, Any], gpus: int) -> None:
    """Run `pretrain(**spec)` here, or under torchrun with `gpus` processes when gpus > 1."""
    if gpus <= 1:
        pretrain(**spec)
        return
    spec_path = Path(spec["run_dir"]) / "checkpoints" / "launch.json"
    write_json(spec_path, spec, indent=1, default=str)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={gpus}", "-m", "lang1core.train.pretrain", str(spec_path)]
    log.info("launching %s", " ".join(cmd))
    done = subprocess.run(cmd)
    if done.returncode != 0:
        raise RuntimeError(
            f"torchrun with {gpus} processes exited with {done.returncode}; the first failing "
            "rank's error is above (a rank killed by the OOM killer shows as signal 9)")


if __name__ == "__main__":
    from lang1core.logs import setup_logging

    setup_logging()
    pretrain(**json.loads(Path(sys.argv[1]).read_text()))
