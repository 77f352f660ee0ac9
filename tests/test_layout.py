"""No module the repository puts on sys.path hides an installed package of the same name.

pytest puts tests/ and bench/ on sys.path, and `python -m …` or `python bench/x.py` puts the
repository root or bench/ there; a file named like an installed package (transformers imports
`kernels`, for one) is then imported in its place and breaks the library that needed it.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ON_SYS_PATH = [REPO, REPO / "tests", REPO / "bench", REPO / "tools", REPO / "workflow" / "scripts"]


def _module_names(folder: Path) -> set[str]:
    names = {p.stem for p in folder.glob("*.py")}
    names |= {p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return names


def test_no_repository_module_shadows_an_installed_package():
    installed = importlib.metadata.packages_distributions()
    clashes = {f"{folder.relative_to(REPO)}/{name}": installed[name]
               for folder in ON_SYS_PATH if folder.is_dir()
               for name in _module_names(folder) if name in installed}
    assert not clashes, f"these shadow installed packages (module: distributions): {clashes}"
