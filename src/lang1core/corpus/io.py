"""Small output helpers shared by the corpus scripts."""

from __future__ import annotations

import json
from pathlib import Path


def write_json(path: str | Path, data: dict, provenance: dict | None = None) -> None:
    """Write `data` (plus a provenance block) as indented, key-stable JSON."""
    out = dict(data)
    if provenance is not None:
        out["provenance"] = provenance
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(out, indent=2, default=str) + "\n")
