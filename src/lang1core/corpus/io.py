"""Small output helpers shared by the corpus scripts."""

from __future__ import annotations

from pathlib import Path

from lang1core import publish


def write_json(path: str | Path, data: dict, provenance: dict | None = None) -> None:
    """Write `data` (plus a provenance block) as indented, key-stable JSON."""
    out = dict(data)
    if provenance is not None:
        out["provenance"] = provenance
    publish.write_json(path, out, default=str)
