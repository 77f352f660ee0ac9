"""Generate the synthetic health system chunk by chunk and stream it to disk.

Each chunk of `chunk_size` patients is simulated, turned into the five export tables and
the oracle rows, appended to the CSVs (header once) and to the oracle's Parquet file, then
dropped; memory therefore depends on the chunk size, not on `n_patients`.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from itertools import islice
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
from tqdm import tqdm

from lang1core.charlson import charlson_index
from lang1core.publish import published_file
from lang1core.synth.claims import claims_frame
from lang1core.synth.coding import diagnoses_frame
from lang1core.synth.config import SynthConfig
from lang1core.synth.hospital import Chunk, simulate_chunk

from lang1core.synth.oracle import SCHEMA as ORACLE_SCHEMA
from lang1core.synth.oracle import chunk_oracle
from lang1core.synth.notes import chunk_notes, split_parts

log = logging.getLogger(__name__)

TABLES = ("patients", "encounters", "notes", "diagnoses", "claims")
ENCOUNTER_COLUMNS = ("encounter_id", "patient_id", "site", "department", "encounter_class", "admission_type",
                     "admit_time", "discharge_time", "discharge_disposition", "payer")
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def chunk_tables(cfg: SynthConfig, index: int, first: int, n: int,
                 ablate: bool = False) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The five export tables and the oracle rows of one chunk of patients (`ablate`: the
    oracle as read without context cues, see oracle.ablated_oracle)."""
    chunk: Chunk = simulate_chunk(cfg, index, first, n)
    # Separate streams per table, so switching notes off leaves the other tables unchanged.
    rng_dx, rng_claims, rng_notes = (np.random.default_rng([cfg.seed, index, k]) for k in (1, 2, 3))
    pop = chunk.pop
    patients = pl.DataFrame({"patient_id": pop.patient_id, "birth_date": pop.birth, "sex": pop.sex,
                             "race": pop.race, "ethnicity": pop.ethnicity, "region": pop.region})
    diagnoses = diagnoses_frame(rng_dx, chunk.enc, chunk.present, chunk.m["possible"])
    claims = claims_frame(rng_claims, chunk.enc)
    inpatient_ids = chunk.enc.filter(pl.col("cls_i") == 0)["encounter_id"]
    cci = charlson_index(diagnoses.filter(pl.col("encounter_id").is_in(inpatient_ids.implode())))
    oracle = chunk_oracle(chunk, claims, cci, ablate=ablate)
    tables = {"patients": patients, "encounters": chunk.enc.select(ENCOUNTER_COLUMNS),
              "diagnoses": diagnoses, "claims": claims}
    if cfg.write_notes:

        notes = chunk_notes(rng_notes, chunk, cfg.corpus_notes)
        tables["notes"] = split_parts(rng_notes, notes, cfg.multipart_fraction)
    return tables, oracle


def _chunk_job(args) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    cfg, c = args
    first = c * cfg.chunk_size
    return chunk_tables(cfg, c, first, min(cfg.chunk_size, cfg.n_patients - first))


@contextmanager
def _chunks(cfg: SynthConfig, n_chunks: int, workers: int):
    """Chunks in order, rendered by `workers` processes (each chunk is seeded on its own, so
    the output does not depend on how many). At most 2 x workers chunks are in flight, so
    memory stays bounded; a worker that dies (killed for memory, say) fails the run instead
    of hanging it. Spawned, not forked: polars' thread pool does not survive a fork. As with
    any spawned pool, the calling script's top level must be guarded by
    `if __name__ == "__main__":`."""
    jobs = ((cfg, c) for c in range(n_chunks))
    if workers <= 1 or n_chunks <= 1:
        yield map(_chunk_job, jobs)
        return
    with ProcessPoolExecutor(min(workers, n_chunks), mp_context=mp.get_context("spawn")) as pool:
        yield in_order(pool, _chunk_job, jobs, 2 * workers)


def in_order(pool: ProcessPoolExecutor, fn, jobs, window: int):
    """fn(job) for each job, in order, with at most `window` jobs submitted ahead."""
    jobs = iter(jobs)
    pending = deque(pool.submit(fn, j) for j in islice(jobs, window))
    while pending:
        result = pending.popleft().result()  # raises BrokenProcessPool if a worker died
        pending.extend(pool.submit(fn, j) for j in islice(jobs, 1))
        yield result


def generate(cfg: SynthConfig, out_dir: str | Path, oracle_path: str | Path | None = None,
             progress: bool = True, workers: int = 1) -> dict[str, int]:
    """Write `out_dir/{patients,encounters,notes,diagnoses,claims}.csv` and the oracle.

    oracle_path defaults to `out_dir/../oracle/oracle.parquet`. Returns rows written per table.
    `workers` processes render chunks in parallel; memory grows with workers x chunk_size.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    oracle_path = Path(oracle_path) if oracle_path else out_dir.parent / "oracle" / "oracle.parquet"
    oracle_path.parent.mkdir(parents=True, exist_ok=True)
    names = [t for t in TABLES if t != "notes" or cfg.write_notes]
    counts = {t: 0 for t in names} | {"oracle": 0}
    n_chunks = -(-cfg.n_patients // cfg.chunk_size)
    log.info("synthetic hospital: %d patients in %d chunks of %d, seed %d, sites %s", cfg.n_patients, n_chunks,
             cfg.chunk_size, cfg.seed, ",".join(cfg.sites))
    # Every table appears whole (a killed run leaves the previous export, not a truncated CSV).
    with ExitStack() as stack:
        files = {t: stack.enter_context(open(stack.enter_context(published_file(out_dir / f"{t}.csv")), "wb"))
                 for t in names}
        writer = stack.enter_context(pq.ParquetWriter(stack.enter_context(published_file(oracle_path)),
                                                      pl.DataFrame(schema=ORACLE_SCHEMA).to_arrow().schema))
        with _chunks(cfg, n_chunks, workers) as chunks:
            for c, (tables, oracle) in enumerate(tqdm(chunks, total=n_chunks, desc="synth chunks", disable=not progress)):
                for t in names:
                    tables[t].write_csv(files[t], include_header=(c == 0), datetime_format=DATETIME_FORMAT,
                                        date_format="%Y-%m-%d")
                    counts[t] += tables[t].height
                writer.write_table(oracle.to_arrow())
                counts["oracle"] += oracle.height
    log.info("wrote %s", ", ".join(f"{k}: {v:,} rows" for k, v in counts.items()))
    return counts
