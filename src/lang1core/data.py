"""ShardLoader: deterministic, resumable training windows from memmapped token shards.

Each global step draws `batch_size * world_size` windows of `seq_len + 1` tokens; rank r takes
windows [r * batch_size, (r + 1) * batch_size). For every window:
1. its source is drawn with probability = the source's mix weight (index.json), from a
   generator seeded by (seed, step), so mixing weights hold in tokens;
2. it takes the source's next chunk in a per-epoch pseudo-random order of the source's
   non-overlapping chunks (chunk c of a file = tokens [c*T, c*T + T + 1)). The order is a keyed
   Feistel permutation, computed per index in O(1) memory whatever the corpus size.
Per-source cursors count chunks consumed by all ranks together, so ranks never read the same
chunk within an epoch of a source, and the window of (seed, step, rank) is fully determined:
`state_dict()` holds only the step and cursors, `seek(step)` recomputes them from scratch.

x, y: int64 tensors [batch_size, seq_len]; y is x shifted by one. Windows are gathered straight
from `np.memmap` views (no copy of the shard), then widened to int64; pinned on CUDA machines.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)

_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (Steele et al. 2014): a fast bijective 64-bit mixer."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def feistel_permute(idx: np.ndarray, n: int, keys: np.ndarray) -> np.ndarray:
    """Image of `idx` (values in [0, n)) under a keyed bijection of [0, n).

    A balanced Feistel network is a bijection on [0, 4^h) >= n; cycle-walking (re-applying it
    until the value falls below n) restricts it to a bijection on [0, n) (Black & Rogaway 2002).
    """
    if n <= 1:
        return np.zeros_like(idx, dtype=np.int64)
    half = max(1, (int(n - 1).bit_length() + 1) // 2)
    mask = np.uint64((1 << half) - 1)
    h = np.uint64(half)

    def enc(x):
        left, right = x >> h, x & mask
        for k in keys:
            left, right = right, left ^ (_mix64(right ^ k) & mask)
        return (left << h) | right

    with np.errstate(over="ignore"):
        y = enc(np.asarray(idx, dtype=np.uint64))
        bad = y >= np.uint64(n)
        while bad.any():
            y[bad] = enc(y[bad])
            bad = y >= np.uint64(n)
    return y.astype(np.int64)


class ShardLoader:
    """Iterator of (x, y) int64 tensors [batch_size, seq_len] from `{mix}/{split}/*.bin` shards.

    shard_dir: a mix folder holding index.json (reads `split`, default "train") or a split folder
    (`.../train`, with index.json in its parent). weights: override the index's mix weights.
    """

    def __init__(self, shard_dir: str | Path, seq_len: int, batch_size: int, rank: int = 0, world_size: int = 1,
                 seed: int = 0, split: str | None = None, weights: dict[str, float] | None = None,
                 pin_memory: bool | None = None):
        shard_dir = Path(shard_dir)
        if (shard_dir / "index.json").is_file():
            root, split = shard_dir, split or "train"
        elif (shard_dir.parent / "index.json").is_file():
            root, split = shard_dir.parent, split or shard_dir.name
        else:
            raise FileNotFoundError(f"{shard_dir}: no index.json here or in the parent folder")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, world_size={world_size})")
        self.index = json.loads((root / "index.json").read_text())
        if split not in self.index["splits"]:
            raise KeyError(f"{root}/index.json has no split {split!r} (has {sorted(self.index['splits'])})")
        self.seq_len, self.batch_size, self.seed = seq_len, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.split = split
        self.eos_id = self.index["eos_id"]
        dtype = np.dtype(self.index["dtype"])
        T = seq_len
        self.sources, self._maps, self._cum, probs = [], [], [], []
        for name, info in sorted(self.index["splits"][split]["sources"].items()):
            w = (weights or {}).get(name, 0.0) if weights is not None else info["weight"]
            maps, counts = [], []
            for f in info["files"]:
                mm = np.memmap(root / f["path"], dtype=dtype, mode="r")
                maps.append(mm)
                counts.append(max(0, (mm.size - 1) // T))
            n_chunks = int(sum(counts))
            if w > 0 and n_chunks == 0:
                log.warning("%s/%s: source %s has %d tokens, fewer than one window of %d; left out",
                            root, split, name, info["tokens"], T + 1)
                continue
            if w <= 0:
                continue
            self.sources.append(name)
            self._maps.append(maps)
            self._cum.append(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
            probs.append(w)
        if not self.sources:
            raise ValueError(f"{root}/{split}: no source has a window of {T + 1} tokens with a positive weight")
        self.probs = np.asarray(probs, dtype=np.float64) / sum(probs)
        self.n_chunks = np.array([c[-1] for c in self._cum], dtype=np.int64)
        self.step = 0
        self.cursors = np.zeros(len(self.sources), dtype=np.int64)
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory
        self._keys: dict[tuple[int, int], np.ndarray] = {}

    @property
    def tokens_per_batch(self) -> int:
        return self.batch_size * self.seq_len

    def __iter__(self):
        return self

    def _choices(self, step: int) -> np.ndarray:
        gb = self.batch_size * self.world_size
        if len(self.sources) == 1:
            return np.zeros(gb, dtype=np.int64)
        rng = np.random.default_rng([self.seed, step])
        return rng.choice(len(self.sources), size=gb, p=self.probs)

    def _epoch_keys(self, s: int, epoch: int) -> np.ndarray:
        key = (s, epoch)
        if key not in self._keys:
            self._keys[key] = np.random.default_rng([self.seed, 1 + s, epoch]).integers(
                0, 2**63, size=4, dtype=np.uint64)
        return self._keys[key]

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        B, T = self.batch_size, self.seq_len
        choice = self._choices(self.step)
        x = np.empty((B, T + 1), dtype=np.int64)
        lo, hi = self.rank * B, (self.rank + 1) * B
        for s in range(len(self.sources)):
            slots = np.flatnonzero(choice == s)
            pos = self.cursors[s] + np.arange(slots.size, dtype=np.int64)
            self.cursors[s] += slots.size
            mine = (slots >= lo) & (slots < hi)
            slots, pos = slots[mine] - lo, pos[mine]
            if slots.size == 0:
                continue
            n = int(self.n_chunks[s])
            epochs, within = pos // n, pos % n
            chunk = np.empty_like(within)
            for e in np.unique(epochs):
                sel = epochs == e
                chunk[sel] = feistel_permute(within[sel], n, self._epoch_keys(s, int(e)))
            files = np.searchsorted(self._cum[s], chunk, side="right") - 1
            starts = (chunk - self._cum[s][files]) * T
            maps = self._maps[s]
            for slot, f, o in zip(slots.tolist(), files.tolist(), starts.tolist()):
                x[slot] = maps[f][o:o + T + 1]
        self.step += 1
        t = torch.from_numpy(x)
        if self.pin_memory:
            t = t.pin_memory()
        return t[:, :-1], t[:, 1:]

    def state_dict(self) -> dict:
        return {"step": self.step, "cursors": self.cursors.tolist(), "sources": list(self.sources),
                "seed": self.seed, "seq_len": self.seq_len, "global_batch": self.batch_size * self.world_size,
                "split": self.split}

    def load_state_dict(self, state: dict) -> None:
        for k in ("seed", "seq_len", "global_batch", "sources", "split"):
            mine = self.state_dict()[k]
            if state.get(k) != mine:
                raise ValueError(f"loader state was saved with {k}={state.get(k)!r}, this loader has {mine!r}")
        self.step = int(state["step"])
        self.cursors = np.asarray(state["cursors"], dtype=np.int64)

    def seek(self, step: int) -> None:
        """Position at `step` as if `step` batches had been drawn (recomputes the cursors)."""
        self.cursors = np.zeros(len(self.sources), dtype=np.int64)
        for g in range(step):
            self.cursors += np.bincount(self._choices(g), minlength=len(self.sources))
        self.step = step
