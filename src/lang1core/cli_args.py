"""Bounded argument types for the `lang1` command: a value outside its range is refused by
argparse with a message naming the value and the range, before any work starts."""

from __future__ import annotations

import argparse
import math


def _number(text: str, kind: type) -> float | int:
    try:
        v = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if isinstance(v, float) and not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return v


def bounded(kind: type = float, low: float | None = None, high: float | None = None, *,
            low_open: bool = False):
    """An argparse type: `kind` within [low, high] (low excluded when `low_open`)."""
    def parse(text: str):
        v = _number(text, kind)
        if low is not None and (v <= low if low_open else v < low):
            raise argparse.ArgumentTypeError(f"{v} must be {'>' if low_open else '>='} {low}")
        if high is not None and v > high:
            raise argparse.ArgumentTypeError(f"{v} must be <= {high}")
        return v
    parse.__name__ = kind.__name__  # argparse names the type in its error message
    return parse


fraction = bounded(float, 0.0, 1.0)
# A share strictly above 0 and at most 1 (a confidence level, an alert rate).
open_fraction = bounded(float, 0.0, 1.0, low_open=True)
nonnegative_float = bounded(float, 0.0)
positive_int = bounded(int, 1)
nonnegative_int = bounded(int, 0)
positive_float = bounded(float, 0.0, low_open=True)
finite_float = bounded(float)
