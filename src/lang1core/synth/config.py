"""Settings of the synthetic hospital (one dataclass, every field commented)."""

from __future__ import annotations

from dataclasses import dataclass, field

SITES = ("site_a", "site_b", "site_c", "site_d")


# The calendar years admissions may span (start_year, end_year), checked by SynthConfig and
# by `lang1 synth`.
FIRST_YEAR, LAST_YEAR = 1990, 2100


@dataclass(frozen=True)
class SynthConfig:
    # Patients in the health system; the generator streams them in chunks, so memory
    # depends on `chunk_size`, not on this.
    n_patients: int = 5000
    # Seed of every random draw; chunk c draws from numpy's generator seeded (seed, c), so a
    # run is a pure function of (seed, n_patients, chunk_size).
    seed: int = 3407
    # First and last calendar year of admissions (study: corpus 2003-2023, tasks 2013-2024).
    # A 30-day readmission after a late-December discharge may fall in the next January.
    start_year: int = 2003
    end_year: int = 2024
    # Hospitals of the health system; each has its own documentation style.
    sites: tuple[str, ...] = field(default=SITES)
    # Patients generated and written per chunk (bounds memory: ~1 GB per 20,000 patients).
    chunk_size: int = 5000
    # Share of notes written as several narrative fields (`part` 1..k) so that readers
    # exercise the join path of the export contract.
    multipart_fraction: float = 0.05
    # Write the pretraining-corpus notes (progress, consult, radiology, pathology, nursing,
    # outpatient and emergency notes) besides each stay's H&P and discharge summary.
    corpus_notes: bool = True
    # Write note text at all. False writes every table but notes (fast; for checks of the
    # encounter, outcome and coding model).
    write_notes: bool = True

    def __post_init__(self) -> None:
        if self.n_patients < 1:
            raise ValueError(f"n_patients must be >= 1, got {self.n_patients}")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")
        if not FIRST_YEAR <= self.start_year <= self.end_year <= LAST_YEAR:
            raise ValueError(
                f"need {FIRST_YEAR} <= start_year <= end_year <= {LAST_YEAR}, got {self.start_year}..{self.end_year}"
            )
        if not self.sites or len(set(self.sites)) != len(self.sites):
            raise ValueError(f"sites must be distinct and non-empty, got {self.sites!r}")
        if not 0.0 <= self.multipart_fraction <= 1.0:
            raise ValueError(f"multipart_fraction must lie in [0, 1], got {self.multipart_fraction}")
