"""The synthetic hospital: a multi-site health system that writes the export contract's tables.

`generate(SynthConfig(...), out_dir)` writes patients, encounters, notes, diagnoses and claims
(DESIGN §3) plus the oracle; modules: population (patients, conditions), encounters and
hospital (stays and outcomes), latent (the outcome model), coding, claims, styles and notes
(text), oracle, writer (chunked streaming).
"""

from lang1core.synth.config import SITES, SynthConfig
from lang1core.synth.writer import TABLES, generate

__all__ = ["SITES", "SynthConfig", "TABLES", "generate"]
