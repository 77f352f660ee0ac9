"""Examples per second for multiple-choice scoring (plain against prefix-shared) and for
finetuning steps at 512 note tokens, on the current device.

    python bench/score.py --threads 2            # debug preset on CPU (or the GPU present)
    python bench/score.py --preset tinyllama-1b  # on a GPU, bf16 autocast

A random-init model of the preset and random 'notes' of exactly --note-tokens tokens (the
tokenizer's speed is not measured). All five tasks ask their question of the same notes, as
the four H&P tasks do of one admission note. Scoring runs twice over the same examples in
one process: plain (every whole prompt, batched by length) and prefix-shared (each note
once, then every task's question from its key/value cache); the variants alternate for
--repeats rounds and the best round of each is printed, with their ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch


# Random-prompt scoring at a preset's size; bench/gpu_check.py reuses build and measure_scoring.
QA_TOKENS = 64  # question + four options + "Answer:" + the letter, roughly, for ReMedE tasks
LETTERS = [29909, 29933, 29907, 29928]  # any four ids inside the vocabulary


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize()


def build(preset: str, note_tokens: int, n: int, attention: str = "sdpa", norm: str = "torch", device=None):
    """(model, encoded examples) for a random-init `preset` on `device` (CUDA when present)."""
    from lang1core.finetune.scoring import Encoded
    from lang1core.model import Llama, ModelConfig

    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    prompt_len = 1 + note_tokens + QA_TOKENS
    cfg = ModelConfig.from_preset(preset, attention=attention, norm=norm)
    if cfg.max_seq_len < prompt_len:  # the debug preset's context is 256: stretch RoPE's range
        cfg = ModelConfig.from_preset(preset, attention=attention, norm=norm, max_seq_len=prompt_len)
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



def bench_tokenizer(out_dir: Path):
    """A small BPE trained on the task prompts, so questions, options and answer letters
    tokenize into about as many pieces as with a real vocabulary."""
    from lang1core.corpus.tokenizer import train_tokenizer
    from lang1core.finetune.tokens import Tokenizer
    from lang1core.remede.prompts import LETTERS, format_prompt
    from lang1core.remede.tasks import TASKS

    lines = [format_prompt("patient admitted", t.question, t.options) for t in TASKS.values()]
    lines = lines * 20 + [" ".join(LETTERS)] * 200  # frequent enough for one piece per letter
    train_tokenizer(lines, out_dir / "bench.model", vocab_size=400)
    return Tokenizer(out_dir / "bench.model")


def timed(fn, cuda: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of fn()."""
    if cuda:
        torch.cuda.synchronize()
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="debug")
    p.add_argument("--vocab-size", type=int, default=None,
                   help="model vocabulary (default: the preset's; the default workflow's "
                        "tokenizer has 8000): each question position projects onto all of it")
    p.add_argument("--note-tokens", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=None, help="default: 16 GPU, 8 CPU")
    p.add_argument("--notes", type=int, default=None,
                   help="notes, each asked by all five tasks (default 32 CPU, 256 GPU)")
    p.add_argument("--repeats", type=int, default=2, help="rounds of plain then shared scoring")
    p.add_argument("--steps", type=int, default=None,
                   help="finetuning steps (default 5 CPU, 20 GPU; 0 skips finetuning)")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from lang1core.finetune.loop import LoopConfig, finetune
    from lang1core.finetune.scoring import Encoded, score
    from lang1core.model import Llama, ModelConfig
    from lang1core.remede.prompts import format_prompt
    from lang1core.remede.tasks import TASKS

    cuda = torch.cuda.is_available()
    dev = torch.device("cuda" if cuda else "cpu")
    bs = args.batch_size or (16 if cuda else 8)
    n_notes = args.notes or (256 if cuda else 32)
    steps = args.steps if args.steps is not None else (20 if cuda else 5)
    with tempfile.TemporaryDirectory() as d:
        tok = bench_tokenizer(Path(d))
    suffixes = {}
    for name, t in TASKS.items():
        prefix, letters = tok.answer_tokens(len(t.options))
        suffixes[name] = (tok.encode(format_prompt("", t.question, t.options)) + prefix, letters)
    prompt_len = 1 + args.note_tokens + max(len(s) for s, _ in suffixes.values()) + 1
    over = {"vocab_size": args.vocab_size} if args.vocab_size else {}
    cfg = ModelConfig.from_preset(args.preset, attention="sdpa", **over)
    if cfg.max_seq_len < prompt_len:  # the debug preset's context is 256: stretch RoPE's range
        cfg = ModelConfig.from_preset(args.preset, attention="sdpa", max_seq_len=prompt_len, **over)
    with torch.device(dev):
        model = Llama(cfg)
    model.init_weights(0)
    model.to(dev)
    g = torch.Generator().manual_seed(0)
    notes = [torch.randint(3, min(cfg.vocab_size, tok.vocab_size), (args.note_tokens,),
                           generator=g).tolist() for _ in range(n_notes)]
    enc: dict[str, list[Encoded]] = {}
    for name, (suffix, letters) in suffixes.items():
        k = len(letters)
        enc[name] = [Encoded([tok.bos_id] + note + suffix + [letters[i % k]], 1 + len(note),
                             letters, i % k) for i, note in enumerate(notes)]
    examples = [e for task_enc in enc.values() for e in task_enc]
    where = f"{torch.cuda.get_device_name() if cuda else 'CPU'} ({torch.get_num_threads()} threads)"
    params = model.num_params() / 1e6
    variants = {"plain": False, "shared": True}
    for share in variants.values():  # warm-up
        score(model, examples[:bs], tok.pad_id, bs, share_prefix=share)
    wall = {v: float("inf") for v in variants}
    cpu = dict(wall)
    for _ in range(args.repeats):
        for v, share in variants.items():
            w, c = timed(lambda: score(model, examples, tok.pad_id, bs, share_prefix=share), cuda)
            wall[v], cpu[v] = min(wall[v], w), min(cpu[v], c)
    rate = {v: len(examples) / dt for v, dt in wall.items()}
    cpu_rate = {v: len(examples) / dt for v, dt in cpu.items()}
    mean_len = sum(len(e.ids) for e in examples) / len(examples)
    for v in variants:
        # On a shared machine wall time includes waiting for a core; CPU time does not.
        print(f"scoring {v:6s} {args.preset} ({params:.1f}M params, vocabulary {cfg.vocab_size}) on {where}: "
              f"{rate[v]:.1f} examples/s, {cpu_rate[v]:.1f} per CPU-second ({len(enc)} tasks x "
              f"{n_notes} notes of {args.note_tokens} tokens, {mean_len:.0f} tokens per prompt, "
              f"batch {bs}, best of {args.repeats})")
    print(f"scoring shared / plain: {rate['shared'] / rate['plain']:.2f}x wall, "
          f"{cpu_rate['shared'] / cpu_rate['plain']:.2f}x CPU")

    if steps == 0:
        return
    los = enc["los"]
    loop = LoopConfig(lr=1e-5, max_steps=steps, batch_size=bs, eval_every=10**9, patience=10**9,
                      restore_best=False)
    finetune(model, tok, {"los": los[: bs * 2]}, {"los": los[:bs]}, replace_steps(loop, 1))
    r = None

    def run():
        nonlocal r
        r = finetune(model, tok, {"los": los}, {"los": los[:bs]}, loop)

    dt, _ = timed(run, cuda)
    # The timed span includes two validation passes (step 0 and the last step).
    print(f"finetune {args.preset} on {where}: {r.steps * bs / dt:.1f} examples/s "
          f"({r.steps} steps of {bs}, incl. 2 validation passes of {bs}; AdamW full weights"
          f"{', bf16 autocast' if cuda else ', fp32'})")


def replace_steps(cfg, steps):
    from dataclasses import replace

    return replace(cfg, max_steps=steps)


if __name__ == "__main__":
    main()
