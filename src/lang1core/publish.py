"""Outputs appear whole or not at all: every stage writes a file or a folder to a hidden
sibling (`.{name}.partial`), flushes it to disk, then renames it into place.

A process killed while writing leaves the destination as it was (the previous complete
version, or nothing) plus the `.partial` sibling, which the next write to the same
destination removes. One writer per destination at a time (Snakemake's guarantee).

Folders (`final/`, a model snapshot) are swapped with Linux `renameat2(RENAME_EXCHANGE)`,
so the destination stays a real folder (Hugging Face `from_pretrained`, our loaders and
Snakemake's `directory()` outputs see nothing new) and is never missing, not even for an
instant. Where the call is unavailable (another OS, a filesystem without it) the old
folder is moved aside to `.{name}.old` first; a crash in that short window is repaired by
the next write, which moves it back before starting.

`mode`/`dir_mode`: files holding note text or identifiers are created with those
permissions (`lang1core.private_files`), so not even the partial file is readable by others.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
from pathlib import Path
from typing import Iterator

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def partial_path(path: str | Path) -> Path:
    """The hidden sibling a write to `path` goes to first."""
    path = Path(path)
    return path.with_name(f".{path.name}.partial")


def aside_path(path: str | Path) -> Path:
    """Where the previous folder waits while a folder is swapped without RENAME_EXCHANGE."""
    path = Path(path)
    return path.with_name(f".{path.name}.old")


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path)


def clear_leftovers(path: str | Path) -> None:
    """Undo what a killed write to `path` left: restore a folder moved aside, drop the partial."""
    path = Path(path)
    aside = aside_path(path)
    if aside.exists() and not path.exists():
        os.rename(aside, path)
    _remove(aside)
    _remove(partial_path(path))


def fsync_dir(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: str | Path) -> None:
    """Flush every file under `path` and the folders themselves to disk."""
    for root, _dirs, files in os.walk(path):
        for name in files:
            with open(Path(root, name), "rb") as f:
                os.fsync(f.fileno())
        fsync_dir(root)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths; False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, f"cannot swap {a} into {b}: {os.strerror(err)}")


def swap_in(new: str | Path, dest: str | Path, aside: str | Path | None = None,
            exchange: bool = True) -> None:
    """Put folder `new` at `dest`, with `dest` never missing; the previous folder is removed.

    `aside` is where the previous folder waits when the atomic exchange is unavailable
    (`aside_path(dest)` by default); `exchange=False` forces that fallback."""
    new, dest = Path(new), Path(dest)
    aside = Path(aside) if aside is not None else aside_path(dest)
    if not dest.exists():
        os.rename(new, dest)
    elif exchange and _exchange(new, dest):
        _remove(new)  # now holds the previous version
    else:
        _remove(aside)
        os.rename(dest, aside)
        os.rename(new, dest)
    fsync_dir(dest.parent)
    _remove(aside)  # the previous folder, or one a crash left there before `dest` was rewritten


def _make_folder(folder: Path, dir_mode: int | None) -> None:
    if dir_mode is None:
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder.mkdir(parents=True, exist_ok=True, mode=dir_mode)
        os.chmod(folder, dir_mode)


@contextlib.contextmanager
def published_file(path: str | Path, mode: int | None = None, dir_mode: int | None = None
                   ) -> Iterator[Path]:
    """Yield a temporary path to write; on a clean exit it replaces `path` in one rename.

    With `mode` the file is created with that permission before anything is written; with
    `dir_mode` the folder holding it is set to that permission first."""
    path = Path(path)
    _make_folder(path.parent, dir_mode)
    clear_leftovers(path)
    tmp = partial_path(path)
    if mode is not None:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode))
        os.chmod(tmp, mode)  # the umask may have narrowed it further
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(f"{path}: the writer left no file at {tmp.name}")
        if mode is not None:  # some writers replace the file rather than truncate it
            os.chmod(tmp, mode)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def published_dir(path: str | Path, dir_mode: int | None = None) -> Iterator[Path]:
    """Yield an empty temporary folder to fill; on a clean exit it takes `path`'s place.
    With `dir_mode` it and the folder holding it have that permission."""
    path = Path(path)
    _make_folder(path.parent, dir_mode)
    clear_leftovers(path)
    tmp = partial_path(path)
    tmp.mkdir() if dir_mode is None else tmp.mkdir(mode=dir_mode)
    if dir_mode is not None:
        os.chmod(tmp, dir_mode)
    try:
        yield tmp
        fsync_tree(tmp)
        swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_bytes(path: str | Path, data: bytes, mode: int | None = None, dir_mode: int | None = None) -> None:
    with published_file(path, mode, dir_mode) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_text(path: str | Path, text: str, mode: int | None = None, dir_mode: int | None = None) -> None:
    write_bytes(path, text.encode("utf-8"), mode, dir_mode)


def write_json(path: str | Path, data, mode: int | None = None, dir_mode: int | None = None,
               **dumps) -> None:
    """`data` as JSON (`dumps` passes json.dumps options, indent=2 unless given), newline-ended."""
    dumps.setdefault("indent", 2)
    write_text(path, json.dumps(data, **dumps) + "\n", mode, dir_mode)
