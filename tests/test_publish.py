"""Outputs appear whole or not at all (lang1core/publish.py): a writer killed at any moment
leaves the previous complete version, never a partial or missing one, and the next write
clears what it left."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from publish_writer import BLOCK, BLOCKS, FILES, body

from lang1core import publish

WRITER = Path(__file__).with_name("publish_writer.py")


def file_version(path: Path) -> int:
    """The version of a complete file; fails on a missing or partial one."""
    data = path.read_bytes()
    assert len(data) == BLOCK * BLOCKS, f"{path}: {len(data)} bytes, a partial file"
    version = int.from_bytes(data[:8], "little")
    assert data == body(version) * BLOCKS, f"{path}: mixed versions"
    return version


def dir_version(path: Path) -> int:
    """The version of a complete folder; fails on a missing, partial or mixed one."""
    assert path.is_dir(), f"{path} is missing"
    version = int((path / "version.txt").read_text())
    assert sorted(p.name for p in path.iterdir()) == sorted([*(f"part{i}.bin" for i in range(FILES)),
                                                             "version.txt"])
    for i in range(FILES):
        assert (path / f"part{i}.bin").read_bytes() == body(version) * (BLOCKS // FILES)
    return version


def start(kind: str, dest: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(WRITER.parent.parent / "src"),
                                                         os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(WRITER), kind, str(dest), *extra],
                            stdout=subprocess.PIPE, text=True, env=env)


def kill_mid_write(proc: subprocess.Popen, dest: Path, published: int) -> None:
    """SIGKILL once `published` versions are in place and the next one is half written."""
    for _ in range(published):
        assert proc.stdout.readline().strip(), "the writer stopped early"
    partial = publish.partial_path(dest)
    size = (lambda: partial.stat().st_size) if dest.name.endswith(".bin") else (
        lambda: sum(p.stat().st_size for p in partial.iterdir()))
    while True:
        try:
            if size() >= BLOCK * BLOCKS // 2:
                break
        except FileNotFoundError:
            pass
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


def kill_at(proc: subprocess.Popen, published: int, delay: float) -> None:
    """SIGKILL `delay` seconds after `published` versions are in place (anywhere in a write)."""
    for _ in range(published):
        assert proc.stdout.readline().strip(), "the writer stopped early"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


def rerun_once(kind: str, dest: Path, *extra: str) -> None:
    """A fresh writer publishes one version and exits; nothing but `dest` may remain."""
    proc = start(kind, dest, *extra, "once")
    assert proc.communicate()[0].strip() == "1" and proc.returncode == 0
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]


def test_a_file_killed_mid_write_keeps_the_old_version_and_the_rerun_cleans_up(tmp_path):
    dest = tmp_path / "tokens.bin"
    kill_mid_write(start("file", dest), dest, published=2)
    assert publish.partial_path(dest).stat().st_size > 0  # killed mid-write, really
    assert file_version(dest) >= 2
    rerun_once("file", dest)
    assert file_version(dest) == 1  # the new writer's version


@pytest.mark.parametrize("extra", [(), ("fallback",)], ids=["exchange", "fallback"])
def test_a_folder_killed_mid_write_keeps_the_old_version_and_the_rerun_cleans_up(tmp_path, extra):
    dest = tmp_path / "final"
    kill_mid_write(start("dir", dest, *extra), dest, published=2)
    assert publish.partial_path(dest).is_dir()
    assert dir_version(dest) >= 2
    rerun_once("dir", dest, *extra)
    assert dir_version(dest) == 1


@pytest.mark.parametrize("delay", [0.0, 0.003, 0.01, 0.03])
def test_a_folder_swapped_atomically_is_never_missing_whenever_the_kill_lands(tmp_path, delay):
    dest = tmp_path / "final"
    kill_at(start("dir", dest), 1, delay)
    assert dir_version(dest) >= 1  # before any repair: the exchange leaves no window
    rerun_once("dir", dest)
    assert dir_version(dest) == 1


@pytest.mark.parametrize("delay", [0.0, 0.003, 0.01, 0.03])
def test_the_fallback_swap_is_repaired_to_a_complete_version(tmp_path, delay):
    dest = tmp_path / "final"
    kill_at(start("dir", dest, "fallback"), 1, delay)
    publish.clear_leftovers(dest)  # the next write's first step: moves an aside folder back
    assert dir_version(dest) >= 1
    rerun_once("dir", dest, "fallback")
    assert dir_version(dest) == 1


@pytest.mark.parametrize("delay", [0.0, 0.003, 0.01])
def test_a_file_is_never_partial_whenever_the_kill_lands(tmp_path, delay):
    dest = tmp_path / "tokens.bin"
    kill_at(start("file", dest), 1, delay)
    assert file_version(dest) >= 1


def test_a_failed_writer_leaves_the_old_file_and_no_partial(tmp_path):
    dest = tmp_path / "report.json"
    publish.write_json(dest, {"v": 1})
    with pytest.raises(RuntimeError):
        with publish.published_file(dest) as tmp:
            tmp.write_text("{half")
            raise RuntimeError("writer failed")
    assert dest.read_text() == '{\n  "v": 1\n}\n'
    assert not publish.partial_path(dest).exists()


def test_private_outputs_are_created_with_the_mode(tmp_path):
    old = os.umask(0o022)
    try:
        with publish.published_file(tmp_path / "notes.parquet", mode=0o600) as tmp:
            assert stat.S_IMODE(tmp.stat().st_mode) == 0o600  # before a byte is written
            tmp.write_bytes(b"text")
        with publish.published_dir(tmp_path / "final", dir_mode=0o700) as tmp:
            assert stat.S_IMODE(tmp.stat().st_mode) == 0o700
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "notes.parquet").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "final").stat().st_mode) == 0o700


def test_swapping_a_folder_replaces_its_content_and_keeps_a_real_folder(tmp_path):
    dest = tmp_path / "final"
    for version in (1, 2):
        with publish.published_dir(dest) as tmp:
            (tmp / f"v{version}.txt").write_text(str(version))
    assert dest.is_dir() and not dest.is_symlink()
    assert [p.name for p in dest.iterdir()] == ["v2.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final"]
