"""Canaries (Carlini et al., "The Secret Sharer", 2019): synthetic identifiers in note-like
context, inserted into a pretraining mix a chosen number of times.

Each canary is a prefix (a fake patient header), a secret (a 9-digit MRN drawn from a seed)
and a suffix. A model that memorised the canary ranks the true secret above the other
secrets of the same format: exposure = log2(|candidates|) - log2(rank). The canaries are
generated from the seed alone, so the mix's manifest and the audit agree without sharing text.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

import polars as pl

# doc_id prefix of canary documents: lets the leak check, the tokenizer sample and the audit's
# note sample tell them from notes.
CANARY_PREFIX = "canary-"
SECRET_DIGITS = 9

# Made-up syllables: canary names collide with no name list the synthetic hospital draws from.
_SYLLABLES = ("vor", "qua", "zel", "thim", "brak", "oss", "mir", "dun", "kel", "yth", "pra", "lux")
_REASONS = ("follow-up of hypertension", "a wound check", "medication review", "chest pain",
            "a fall at home", "shortness of breath", "a diabetic foot exam", "abdominal pain")


@dataclass(frozen=True)
class Canary:
    canary_id: str
    repetitions: int
    prefix: str
    secret: str
    suffix: str

    @property
    def text(self) -> str:
        return f"{self.prefix} {self.secret}{self.suffix}"


def _name(rnd: random.Random) -> str:
    return "".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(2, 3))).capitalize()


def random_secret(rnd: random.Random) -> str:
    return str(rnd.randrange(10 ** (SECRET_DIGITS - 1), 10 ** SECRET_DIGITS))


def make_canaries(seed: int, per_count: int, repetitions: list[int]) -> list[Canary]:
    """`per_count` canaries for each repetition count, fixed by `seed`."""
    if per_count < 1 or not repetitions or any(r < 1 for r in repetitions):
        raise ValueError(f"canaries need per_count >= 1 and repetition counts >= 1 "
                         f"(got per_count={per_count}, repetitions={repetitions})")
    out = []
    for r in sorted(set(repetitions)):
        for i in range(per_count):
            rnd = random.Random(f"{seed}:canary:{r}:{i}")
            prefix = (f"Clinic note\nPatient: {_name(rnd).upper()}, {_name(rnd)}   "
                      f"Seen for {rnd.choice(_REASONS)}. MRN:")
            suffix = (f"\nVitals stable. Plan: return in {rnd.randint(2, 12)} weeks. "
                      f"-- {_name(rnd)}, MD")
            out.append(Canary(f"{CANARY_PREFIX}r{r}-{i}", r, prefix, random_secret(rnd), suffix))
    return out


def candidate_secrets(canary: Canary, n: int, seed: int) -> list[str]:
    """The true secret first, then n - 1 other secrets of its format (distinct, seeded)."""
    if n < 2:
        raise ValueError(f"a canary's candidate set needs at least 2 secrets (got {n})")
    rnd = random.Random(f"{seed}:candidates:{canary.canary_id}")
    seen, out = {canary.secret}, [canary.secret]
    while len(out) < n:
        s = random_secret(rnd)
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def canary_documents(canaries: list[Canary]) -> pl.DataFrame:
    """One row per inserted copy (doc_id `{canary_id}-{copy}`), the mix's document columns."""
    rows = [(f"{c.canary_id}-{k}", c.text) for c in canaries for k in range(c.repetitions)]
    return pl.DataFrame(rows, schema={"doc_id": pl.String, "text": pl.String}, orient="row")


def manifest(canaries: list[Canary], seed: int) -> dict:
    """What the mix's manifest records: the settings and each canary (synthetic text only)."""
    return {"seed": seed, "secret_digits": SECRET_DIGITS,
            "inserted_documents": sum(c.repetitions for c in canaries),
            "canaries": [asdict(c) for c in canaries]}


def from_manifest(stats: dict) -> list[Canary]:
    """The canaries a mix's mix_stats.json records (empty when none were inserted)."""
    return [Canary(**c) for c in (stats.get("canaries") or {}).get("canaries", [])]
