"""The synthetic hospital: a multi-site health system that writes the export contract's tables.

`generate(SynthConfig(...), out_dir)` writes patients, encounters, notes, diagnoses and claims
(the export contract in README) plus the oracle. Modules:
- facts: population (patients, conditions), encounters and hospital (stays), physiology
  (printed vitals and labs, warning points), course (procedures, necessity, events), latent
  (the outcome model), coding and claims;
- text: lexicon (surface forms of concepts), phrasing (forms, context cues, identifiers),
  styles (site templates), stay (one encounter's facts), sections, hp, discharge and
  corpus_notes, notes (one chunk's notes);
- oracle (true probabilities given the note), writer (chunked, parallel streaming),
  measures (text statistics the benchmark reports).
"""

from lang1core.synth.config import SITES, SynthConfig
from lang1core.synth.writer import TABLES, generate

__all__ = ["SITES", "SynthConfig", "TABLES", "generate"]
