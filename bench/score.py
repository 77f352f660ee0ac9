"""Examples per second for multiple-choice scoring and for finetuning steps at 512 note
tokens, on the current device (issue 7).

    python bench/score.py                        # debug preset on CPU (or the GPU present)
    python bench/score.py --preset tinyllama-1b  # on a GPU, bf16 autocast

A random-init model of the preset and a random 'note' of exactly --note-tokens tokens per
example (the tokenizer's speed is not measured); the prompt adds the task's question and
options. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="debug")
    p.add_argument("--note-tokens", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=None, help="default: 16 GPU, 8 CPU")
    p.add_argument("--examples", type=int, default=None, help="scored examples (default 64 CPU, 512 GPU)")
    p.add_argument("--steps", type=int, default=None, help="finetuning steps (default 5 CPU, 20 GPU)")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from finetune_helpers import train_tokenizer
    from lang1core.finetune.loop import LoopConfig, finetune
    from lang1core.finetune.scoring import Encoded, autocast, score
    from lang1core.finetune.tokens import Tokenizer
    from lang1core.model import Llama, ModelConfig
    from lang1core.remede.prompts import format_prompt
    from lang1core.remede.tasks import TASKS

    cuda = torch.cuda.is_available()
    dev = torch.device("cuda" if cuda else "cpu")
    bs = args.batch_size or (16 if cuda else 8)
    n = args.examples or (512 if cuda else 64)
    steps = args.steps or (20 if cuda else 5)
    with tempfile.TemporaryDirectory() as d:
        tok = Tokenizer(train_tokenizer(Path(d)))
    prompt_len = 1 + args.note_tokens + 64
    cfg = ModelConfig.from_preset(args.preset, attention="sdpa")
    if cfg.max_seq_len < prompt_len:  # the debug preset's context is 256: stretch RoPE's range
        cfg = ModelConfig.from_preset(args.preset, attention="sdpa", max_seq_len=prompt_len)
    with torch.device(dev):
        model = Llama(cfg)
    model.init_weights(0)
    model.to(dev)
    t = TASKS["los"]
    g = torch.Generator().manual_seed(0)
    suffix = tok.encode(format_prompt("", t.question, t.options)) + tok.answer_tokens(4)[0]
    _, letters = tok.answer_tokens(4)
    enc = []
    for i in range(n):
        note = torch.randint(3, min(cfg.vocab_size, tok.vocab_size), (args.note_tokens,), generator=g).tolist()
        ids = [tok.bos_id] + note + suffix + [letters[i % 4]]
        enc.append(Encoded(ids, 1 + args.note_tokens, letters, i % 4))
    where = f"{torch.cuda.get_device_name() if cuda else 'CPU'} ({torch.get_num_threads()} threads)"
    params = model.num_params() / 1e6
    score(model, enc[:bs], tok.pad_id, bs)  # warm-up
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    score(model, enc, tok.pad_id, bs)
    if cuda:
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    print(f"scoring  {args.preset} ({params:.1f}M params) on {where}: {n / dt:.1f} examples/s "
          f"({args.note_tokens} note tokens, {len(enc[0].ids)} per prompt, batch {bs})")
    loop = LoopConfig(lr=1e-5, max_steps=steps, batch_size=bs, eval_every=10**9, patience=10**9,
                      restore_best=False)
    finetune(model, tok, {"los": enc[: bs * 2]}, {"los": enc[:bs]}, replace_steps(loop, 1))
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    r = finetune(model, tok, {"los": enc}, {"los": enc[:bs]}, loop)
    if cuda:
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    # The timed span includes two validation passes (step 0 and the last step).
    print(f"finetune {args.preset} on {where}: {r.steps * bs / dt:.1f} examples/s "
          f"({r.steps} steps of {bs}, incl. 2 validation passes of {bs}; AdamW full weights"
          f"{', bf16 autocast' if cuda else ', fp32'})")


def replace_steps(cfg, steps):
    from dataclasses import replace

    return replace(cfg, max_steps=steps)


if __name__ == "__main__":
    main()
