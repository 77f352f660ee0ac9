"""Rebuild src/lang1core/synth/data/lexicon_sources.json from the installed vocabulary packages.

Run after upgrading simple-icd-10-cm, drug-named-entity-recognition or pycomorb, or after
editing the codes in catalog.py or lexicon_terms.py:

    python scripts/build_lexicon_data.py
"""

from __future__ import annotations

import logging

from lang1core.synth import lexicon_sources

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = lexicon_sources.write()
    logging.info("wrote %s: %d ICD-10-CM codes, %d incidental conditions, %d drugs (%s)",
                 lexicon_sources.DATA_FILE.name, len(data["icd"]), len(data["incidental"]), len(data["drugs"]),
                 ", ".join(f"{k} {v}" for k, v in data["provenance"].items()))
