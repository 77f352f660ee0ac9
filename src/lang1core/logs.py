"""Logging set-up shared by the CLI and the workflow's scripts.

Every rule logs to its own `log:` file; interactive runs also log to the terminal.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_file: str | Path | None = None, level: int = logging.INFO) -> None:
    """Send lang1core's log records to `log_file` (if given) and to stderr."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)
    if log_file is not None:
        sys.excepthook = _log_uncaught


def _log_uncaught(exc_type, exc, tb) -> None:
    """Write an uncaught error into the log file too: a failed rule (or Slurm job) then shows
    its traceback where the user is told to look, not only on the scheduler's stderr."""
    if not issubclass(exc_type, KeyboardInterrupt):
        logging.getLogger("lang1core").critical("failed: %s", exc, exc_info=(exc_type, exc, tb))
    sys.__excepthook__(exc_type, exc, tb)


_warned: set[str] = set()


def warn_once(logger: logging.Logger, key: str, message: str) -> None:
    """Log a warning the first time `key` is seen (docs/architecture.md#fallbacks-say-so-once)."""
    if key not in _warned:
        _warned.add(key)
        logger.warning(message)
