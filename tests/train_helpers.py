"""Small stand-ins shared by the trainer tests: a token stream loader and run helpers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

VOCAB = 64


class ArrayLoader:
    """Deterministic loader over a fixed random token stream, sharded like ShardLoader:
    global micro-batch k goes to rank k % world_size, so one rank with accumulation sees
    the same sequences per optimizer step as several ranks without it."""

    def __init__(self, split, batch_size, seq_len, rank=0, world_size=1, seed=0, n_tokens=200_000):
        rng = np.random.default_rng(1 if split == "train" else 2)
        # a learnable stream: each token depends on the previous one
        base = rng.integers(0, VOCAB, n_tokens)
        base[1::2] = (base[0::2][: len(base[1::2])] * 7 + 3) % VOCAB
        self.data = torch.from_numpy(base.astype(np.int64))
        self.B, self.T, self.rank, self.world = batch_size, seq_len, rank, world_size
        self.pos = 0  # global micro-batch index of this rank's next batch

    def __iter__(self):
        return self

    def __next__(self):
        k = self.pos * self.world + self.rank
        n = self.B * self.T
        start = (k * n) % (len(self.data) - n - 1)
        chunk = self.data[start:start + n + 1]
        self.pos += 1
        x = chunk[:-1].view(self.B, self.T)
        y = chunk[1:].view(self.B, self.T)
        return x.clone(), y.clone()

    def state_dict(self):
        return {"pos": self.pos}

    def load_state_dict(self, state):
        self.pos = state["pos"]


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, dim)

    def forward(self, h):
        return h + torch.relu(self.fc(self.norm(h)))


class TinyLM(nn.Module):
    """Stand-in with the model interface the trainer uses (lang1core.train.trainer.Model)."""

    def __init__(self, dim=32, n_layers=2):
        super().__init__()
        self.config = SimpleNamespace(n_layers=n_layers, dim=dim, tie_embeddings=False)
        self.tok_embeddings = nn.Embedding(VOCAB, dim)
        self.blocks = nn.ModuleList(Block(dim) for _ in range(n_layers))
        self.norm = nn.LayerNorm(dim)
        self.output = nn.Linear(dim, VOCAB, bias=False)

    def forward(self, x):
        h = self.tok_embeddings(x)
        for b in self.blocks:
            h = b(h)
        return self.output(self.norm(h))

    def num_params(self, exclude_embeddings=False):
        return sum(p.numel() for name, p in self.named_parameters()
                   if not (exclude_embeddings and name.startswith("tok_embeddings")))

    def materialize(self, device, seed):
        """Allocate on `device` and initialise each layer its default way, seeded."""
        self.to_empty(device=device)
        torch.manual_seed(seed)
        for m in self.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
        return self

    def loss(self, x, y, ignore_index=-100):
        logits = self(x)
        return nn.functional.cross_entropy(logits.flatten(0, 1).float(), y.flatten(),
                                           ignore_index=ignore_index)


def build_model():
    return TinyLM()


def save_hf(model, out_dir: Path, extra: dict):
    """Minimal stand-in for lang1core.model.hf.save_pretrained."""
    import json
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out_dir / "model.pt")
    (out_dir / "lang1.json").write_text(json.dumps(extra, default=str))
