"""What the `lang1 serve` gateway costs: seconds for `transformers serve` to load an export,
and the median time of a one-token completion (a scoring request) sent straight to it and
through the gateway, on the same warm server.

    python bench/serve.py                      # a random-init debug-size export, on CPU
    python bench/serve.py MODEL_DIR --requests 100 --device cuda

Each variant is sent `--requests` seeded requests once before it is timed (transformers serve's
first requests are slower), then `--requests` more, one at a time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

PROMPT = ("patient admitted with chest pain and fever, stable on the ward\nQuestion: Will the patient be "
          "readmitted within 30 days?\nA. No\nB. Yes\nAnswer:")


def tiny_export(out: Path) -> Path:
    """A random-init model with a SentencePiece tokenizer trained on a few lines."""
    import sentencepiece as spm
    import torch

    from lang1core.model import Llama, ModelConfig
    from lang1core.model.hf import save_pretrained

    (out / "lines.txt").write_text((PROMPT + "\n") * 50 + "renal failure sepsis discharged home\n" * 50)
    spm.SentencePieceTrainer.train(input=str(out / "lines.txt"), model_prefix=str(out / "spm"), vocab_size=400,
                                   model_type="bpe", byte_fallback=True, hard_vocab_limit=False, bos_id=1,
                                   eos_id=2, unk_id=0, pad_id=-1, minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=str(out / "spm.model"))
    model = Llama(ModelConfig.from_preset("debug", vocab_size=sp.vocab_size(), attention="sdpa", loss="torch"))
    model.init_weights(0)
    torch.manual_seed(0)
    return save_pretrained(model, out / "m", tokenizer_model=out / "spm.model")


def median_ms(url: str, token: str | None, n: int) -> float:
    from lang1core.finetune.endpoint import post_json

    times = []
    for i in range(n):
        start = time.perf_counter()
        post_json(url, {"prompt": PROMPT, "max_tokens": 1, "temperature": 1.0, "seed": i}, token, 120)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", nargs="?", type=Path, help="an export (default: a random debug-size one)")
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    import uvicorn

    from lang1core.finetune import upstream
    from lang1core.finetune.gateway import make_app, server_config

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model_dir or tiny_export(Path(tmp))
        start = time.monotonic()
        proc, port = upstream.start(model_dir, device=args.device)
        print(f"transformers serve ready in {time.monotonic() - start:.1f} s")
        token = "bench-token-0123456789"
        gateway_port = upstream.free_port()
        server = uvicorn.Server(server_config(make_app(f"http://{upstream.LOOPBACK}:{port}", "m", token),
                                              upstream.LOOPBACK, gateway_port, max_connections=8))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        try:
            for name, p, key in (("direct", port, None), ("through the gateway", gateway_port, token)):
                url = f"http://{upstream.LOOPBACK}:{p}/v1/completions"
                median_ms(url, key, args.requests)  # warm-up
                print(f"{name}: median {median_ms(url, key, args.requests):.0f} ms per one-token completion "
                      f"({args.requests} requests)")
        finally:
            server.should_exit = True
            upstream.stop(proc)


if __name__ == "__main__":
    main()
