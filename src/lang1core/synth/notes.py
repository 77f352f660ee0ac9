"""Note text of one chunk: every inpatient stay gets an H&P at admission and a discharge
summary; the corpus notes (progress, nursing, radiology, consult, pathology; clinic and
emergency notes for other encounters) make the pretraining corpus.

Each note is rendered from its stay's facts (stay.py) by its own module: hp, discharge and
corpus_notes. One seeded Python random stream per chunk makes the text a pure function of the
seed and the chunk.
"""

from __future__ import annotations

import random

import numpy as np
import polars as pl

from lang1core.synth import corpus_notes as C
from lang1core.synth import discharge, hp
from lang1core.synth.hospital import Chunk
from lang1core.synth.phrasing import Voice, with_typos
from lang1core.synth.stay import Stay, stays

SEC = np.timedelta64(1, "s")
HOUR = np.timedelta64(3600, "s")


class _Notes:
    """Collects notes of a chunk; sequence numbers are unique within an encounter."""

    def __init__(self):
        self.rows: list[tuple[int, int, str, np.datetime64, str]] = []
        self.seq: dict[int, int] = {}

    def add(self, row: int, note_type: str, time: np.datetime64, text: str) -> None:
        k = self.seq.get(row, 0)
        self.seq[row] = k + 1
        self.rows.append((row, k, note_type, time, text))


def _within(rnd: random.Random, s: Stay, lo: float, hi: float) -> np.datetime64:
    span = int((s.discharge - s.admit) / SEC)
    return s.admit + int(span * (lo + (hi - lo) * rnd.random())) * SEC


def _stay_notes(rnd: random.Random, s: Stay, out: _Notes, corpus: bool) -> None:
    task = Voice(rnd, s.site, s.year)
    hp_time = min(s.admit + int(1800 + rnd.random() * 3 * 3600) * SEC, s.discharge)
    text, hpi = hp.render(task, s)
    out.add(s.row, "history_and_physical", hp_time, with_typos(task, text))
    # Written in the last two hours of the stay, never before the H&P (short stays).
    ds_time = max(s.discharge - int(rnd.random() * 2 * 3600) * SEC, hp_time)
    out.add(s.row, "discharge_summary", ds_time, with_typos(task, discharge.render(task, s, hpi)))
    if not corpus:
        return
    v = Voice(rnd, s.site, s.year, corpus=True)
    carried: list[str] = []
    for day in range(1, min(s.los_days, 5) + 1):
        t = min(s.admit + (day * 24 - 4) * HOUR + int(rnd.random() * 7200) * SEC, s.discharge)
        text, carried = C.progress(v, s, day, carried)
        out.add(s.row, "progress", t, text)
    for _ in range(1 + min(s.los_days, 6) // 2):
        out.add(s.row, "nursing", _within(rnd, s, 0.05, 0.95), C.nursing(v, s))
    if rnd.random() < 0.6:
        out.add(s.row, "radiology", _within(rnd, s, 0.0, 0.3), C.radiology(v, s))
    if rnd.random() < 0.3:
        out.add(s.row, "consult", _within(rnd, s, 0.2, 0.6), C.consult(v, s))
    if s.procedure in C.SPECIMENS or (s.dept in ("surgery", "oncology") and rnd.random() < 0.3):
        out.add(s.row, "pathology", _within(rnd, s, 0.3, 0.9), C.pathology(v, s))


def _visit_notes(rnd: random.Random, s: Stay, emergency: bool, out: _Notes) -> None:
    v = Voice(rnd, s.site, s.year, corpus=True)
    out.add(s.row, "progress", _within(rnd, s, 0.2, 0.9), C.visit(v, s, emergency))
    if emergency and rnd.random() < 0.3:
        out.add(s.row, "radiology", _within(rnd, s, 0.1, 0.9), C.radiology(v, s))


def chunk_notes(rng: np.random.Generator, chunk: Chunk, corpus: bool) -> pl.DataFrame:
    """All notes of a chunk: note_id, patient_id, encounter_id, note_type, note_time, text."""
    enc = chunk.enc
    rnd = random.Random(int(rng.integers(2**62)))
    cls = enc["cls_i"].to_numpy()
    out = _Notes()
    for s in stays(chunk, np.nonzero(cls == 0)[0]):
        _stay_notes(rnd, s, out, corpus)
    if corpus:
        other = np.nonzero(cls != 0)[0]
        for s, c in zip(stays(chunk, other), cls[other]):
            _visit_notes(rnd, s, c == 2, out)
    if not out.rows:
        return _empty()
    row, seq, note_type, time, text = map(list, zip(*out.rows))
    notes = pl.DataFrame({"row": row, "seq": seq, "note_type": note_type,
                          "note_time": np.array(time, dtype="datetime64[us]"), "text": text},
                         schema_overrides={"text": pl.String, "note_type": pl.String}).sort(["row", "seq"])
    rows = notes["row"].to_numpy()
    eid = enc["encounter_id"].to_numpy()[rows]
    return notes.select(
        note_id=pl.concat_str([pl.lit("N"), pl.Series(eid).str.slice(1), pl.col("seq").cast(pl.String).str.zfill(2)]),
        patient_id=pl.Series(enc["patient_id"].to_numpy()[rows]),
        encounter_id=pl.Series(eid),
        note_type=pl.col("note_type"),
        note_time=pl.col("note_time"),
        text=pl.col("text"),
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={"note_id": pl.String, "patient_id": pl.String, "encounter_id": pl.String,
                                "note_type": pl.String, "note_time": pl.Datetime("us"), "text": pl.String})


def split_parts(rng: np.random.Generator, notes: pl.DataFrame, fraction: float) -> pl.DataFrame:
    """Give every note a `part`; a `fraction` of multi-section notes become two narrative
    fields (split at a blank line; joining the parts with a blank line restores the text)."""
    multi = (rng.random(notes.height) < fraction) & notes["text"].str.contains("\n\n", literal=True).to_numpy()
    single = notes.filter(~pl.Series(multi)).with_columns(part=pl.lit(1, pl.Int64))
    m = notes.filter(pl.Series(multi)).with_columns(_s=pl.col("text").str.split("\n\n"))
    m = m.with_columns(_k=(pl.col("_s").list.len() // 2))
    p1 = m.with_columns(text=pl.col("_s").list.slice(0, pl.col("_k")).list.join("\n\n"), part=pl.lit(1, pl.Int64))
    p2 = m.with_columns(text=pl.col("_s").list.slice(pl.col("_k")).list.join("\n\n"), part=pl.lit(2, pl.Int64))
    out = pl.concat([single, p1.drop("_s", "_k"), p2.drop("_s", "_k")])
    return out.sort(["encounter_id", "note_id", "part"], maintain_order=True)
