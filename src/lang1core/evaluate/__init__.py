"""Evaluation: AUROC with vectorised bootstrap intervals, calibration, strata, alert operating
points and the oracle share, per run (metrics JSON) and merged into the figures' tables; the
study's claims judged from those tables with paired bootstrap intervals (claims.py)."""

from lang1core.evaluate.auroc import auroc, bootstrap_binary, bootstrap_multiclass
from lang1core.evaluate.metrics import EvalSettings

__all__ = ["EvalSettings", "auroc", "bootstrap_binary", "bootstrap_multiclass"]
