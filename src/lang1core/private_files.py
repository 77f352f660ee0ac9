"""Files holding patient data (note text, identifiers, dates) are readable by their owner
only: created under a restrictive umask and set to the configured modes once written, so
a shared results folder never exposes them to other accounts on the machine.

The modes are `export.file_mode` and `export.dir_mode` in the workflow config (octal
strings, "0600" and "0700" by default)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def parse_mode(value: str | int | None, default: int, key: str) -> int:
    """An octal permission from config ("0600", "600" or an int); a clear error naming `key`."""
    if value is None:
        return default
    try:
        mode = value if isinstance(value, int) else int(str(value), 8)
    except ValueError:
        raise ValueError(f"{key}: {value!r} is not an octal file mode such as '0600'") from None
    if not 0 <= mode <= 0o777:
        raise ValueError(f"{key}: {value!r} is not a file mode between 0000 and 0777")
    return mode


@contextlib.contextmanager
def private_umask(dir_mode: int = DIR_MODE):
    """Create files and folders with no more than `dir_mode`'s permissions while inside."""
    old = os.umask(0o777 & ~dir_mode)
    try:
        yield
    finally:
        os.umask(old)


def make_private(root: str | Path, file_mode: int = FILE_MODE, dir_mode: int = DIR_MODE) -> None:
    """Set `root` and every folder below it to `dir_mode`, every file to `file_mode`."""
    root = Path(root)
    if not root.exists():
        return
    os.chmod(root, dir_mode)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), dir_mode)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), file_mode)


def config_modes(config: dict | None = None) -> tuple[int, int]:
    """(file_mode, dir_mode) from the workflow config's `export:` section, owner-only by default."""
    export = (config or {}).get("export") or {}
    return (parse_mode(export.get("file_mode"), FILE_MODE, "export.file_mode"),
            parse_mode(export.get("dir_mode"), DIR_MODE, "export.dir_mode"))

