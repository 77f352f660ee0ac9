"""Run `transformers serve` for one model directory on a loopback port, as a child process.

It is the model server `lang1 serve` puts its gateway in front of (and what the endpoint tests
score against). Its own request logging stays off, so prompts never reach a log.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A loopback port nobody listens on now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def serve_command(model_dir: Path, port: int, device: str = "auto") -> list[str]:
    # The venv's own script first: a `transformers` elsewhere on PATH may be another version.
    exe = Path(sys.executable).with_name("transformers")
    return [str(exe) if exe.exists() else shutil.which("transformers") or "transformers", "serve",
            str(model_dir), "--host", LOOPBACK, "--port", str(port), "--device", device,
            "--log-level", "warning", "--no-enable-log-requests"]


def wait_ready(proc: subprocess.Popen, port: int, timeout: float) -> None:
    """Block until the server answers /health, or raise naming why (it exited, or took too long)."""
    url = f"http://{LOOPBACK}:{port}/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server for port {port} exited with status {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if json.loads(r.read()).get("status") == "ok":
                    return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the server on port {port} was not ready after {timeout:.0f} s")


def start(model_dir: Path, port: int | None = None, device: str = "auto",
          ready_timeout: float = 300) -> tuple[subprocess.Popen, int]:
    """Start `transformers serve` for `model_dir` on loopback and wait until it answers.
    Returns (process, port); the caller stops the process (`stop`)."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir}: no config.json (export the model with `lang1 export-hf`)")
    port = port or free_port()
    proc = subprocess.Popen(serve_command(model_dir, port, device), stdin=subprocess.DEVNULL,
                            preexec_fn=_end_with_parent if sys.platform == "linux" else None)
    try:
        wait_ready(proc, port, ready_timeout)
    except BaseException:
        stop(proc)
        raise
    return proc, port


def _end_with_parent() -> None:
    """In the child: the kernel sends it SIGTERM when its parent dies, even of SIGKILL, so a
    killed `lang1 serve` leaves no model server behind holding the model (prctl PR_SET_PDEATHSIG)."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def stop(proc: subprocess.Popen, grace: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
