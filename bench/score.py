"""Examples per second for multiple-choice scoring and for finetuning steps at 512 note
tokens, on the current device.

    python bench/score.py                        # debug preset on CPU (or the GPU present)
    python bench/score.py --preset tinyllama-1b  # on a GPU, bf16 autocast

A random-init model of the preset and random token ids per example: BOS, exactly
--note-tokens note tokens, then a 64-token stand-in for the question, options and answer
(the tokenizer's speed is not measured, and token values do not change the arithmetic).
Prints one line per measurement; bench/gpu_check.py reuses measure_scoring.
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import torch

QA_TOKENS = 64  # question + four options + "Answer:" + the letter, roughly, for ReMedE tasks
LETTERS = [29909, 29933, 29907, 29928]  # any four ids inside the vocabulary


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def build(preset: str, note_tokens: int, n: int, attention: str = "sdpa", device=None):
    """(model, encoded examples) for a random-init `preset` on `device` (CUDA when present)."""
    from lang1core.finetune.scoring import Encoded
    from lang1core.model import Llama, ModelConfig

    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    prompt_len = 1 + note_tokens + QA_TOKENS
    cfg = ModelConfig.from_preset(preset, attention=attention)
    if cfg.max_seq_len < prompt_len:  # the debug preset's context is 256: stretch RoPE's range
        cfg = ModelConfig.from_preset(preset, attention=attention, max_seq_len=prompt_len)
    with torch.device(dev):
        model = Llama(cfg)
    model.init_weights(0)
    g = torch.Generator().manual_seed(0)
    letters = [t % cfg.vocab_size for t in LETTERS]
    enc = []
    for i in range(n):
        ids = [1] + torch.randint(3, cfg.vocab_size, (note_tokens + QA_TOKENS - 1,), generator=g).tolist()
        enc.append(Encoded(ids + [letters[i % 4]], 1 + note_tokens, letters, i % 4))
    return model, enc


def measure_scoring(model, enc, batch_size: int) -> float:
    """Examples/s of lang1core.finetune.scoring.score (after one warm-up batch)."""
    from lang1core.finetune.scoring import score

    dev = next(model.parameters()).device
    score(model, enc[:batch_size], 0, batch_size)
    _sync(dev)
    t0 = time.perf_counter()
    score(model, enc, 0, batch_size)
    _sync(dev)
    return len(enc) / (time.perf_counter() - t0)


def measure_finetuning(model, enc, batch_size: int, steps: int) -> tuple[float, int]:
    """(examples/s, steps run) of lang1core.finetune.loop.finetune; the timed span includes
    two validation passes of one batch (step 0 and the last step)."""
    from dataclasses import replace

    from lang1core.finetune.loop import LoopConfig, finetune

    dev = next(model.parameters()).device
    tok = SimpleNamespace(pad_id=0)  # all the loop needs of a tokenizer
    loop = LoopConfig(lr=1e-5, max_steps=steps, batch_size=batch_size, eval_every=10**9, patience=10**9,
                      restore_best=False)
    finetune(model, tok, {"los": enc[: batch_size * 2]}, {"los": enc[:batch_size]}, replace(loop, max_steps=1))
    _sync(dev)
    t0 = time.perf_counter()
    r = finetune(model, tok, {"los": enc}, {"los": enc[:batch_size]}, loop)
    _sync(dev)
    return r.steps * batch_size / (time.perf_counter() - t0), r.steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="debug")
    p.add_argument("--note-tokens", type=int, default=512)
    p.add_argument("--attention", default="sdpa", help="sdpa | triton | eager")
    p.add_argument("--batch-size", type=int, default=None, help="default: 16 GPU, 8 CPU")
    p.add_argument("--examples", type=int, default=None, help="scored examples (default 64 CPU, 512 GPU)")
    p.add_argument("--steps", type=int, default=None, help="finetuning steps (default 5 CPU, 20 GPU)")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = torch.cuda.is_available()
    bs = args.batch_size or (16 if cuda else 8)
    n = args.examples or (512 if cuda else 64)
    steps = args.steps or (20 if cuda else 5)
    model, enc = build(args.preset, args.note_tokens, n, args.attention)
    where = f"{torch.cuda.get_device_name() if cuda else 'CPU'} ({torch.get_num_threads()} threads)"
    params = model.num_params() / 1e6
    eps = measure_scoring(model, enc, bs)
    print(f"scoring  {args.preset} ({params:.1f}M params, attention={args.attention}) on {where}: {eps:.1f} "
          f"examples/s ({args.note_tokens} note tokens, {len(enc[0].ids)} per prompt, batch {bs})")
    eps, done = measure_finetuning(model, enc, bs, steps)
    print(f"finetune {args.preset} on {where}: {eps:.1f} examples/s ({done} steps of {bs}, incl. 2 validation "
          f"passes of {bs}; AdamW full weights{', bf16 autocast' if cuda else ', fp32'})")


if __name__ == "__main__":
    main()
