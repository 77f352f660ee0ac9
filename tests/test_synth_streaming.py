"""The synthetic hospital's run mechanics: determinism by seed, chunked streaming (what is
streamed equals what each chunk generates; memory follows the chunk, not n_patients), the
config's checks and the `lang1 synth` command."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from lang1core.synth import TABLES, SynthConfig, generate
from lang1core.synth.writer import chunk_tables

SMALL = dict(n_patients=400, chunk_size=150)


def digests(root: Path) -> dict[str, str]:
    files = sorted((root / "export").glob("*.csv")) + [root / "oracle" / "oracle.parquet"]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def run(root: Path, **kw) -> dict[str, str]:
    generate(SynthConfig(**(SMALL | kw)), root / "export", root / "oracle" / "oracle.parquet", progress=False)
    return digests(root)


def test_same_seed_gives_identical_bytes(tmp_path):
    a = run(tmp_path / "a", seed=11)
    b = run(tmp_path / "b", seed=11)
    assert set(a) == {f"{t}.csv" for t in TABLES} | {"oracle.parquet"}
    assert a == b


def test_different_seed_gives_a_different_hospital(tmp_path):
    a = run(tmp_path / "a", seed=11)
    b = run(tmp_path / "b", seed=12)
    for name in a:
        assert a[name] != b[name], name


def test_switching_notes_off_leaves_the_other_tables_unchanged(tmp_path):
    a = run(tmp_path / "a", seed=5)
    b = run(tmp_path / "b", seed=5, write_notes=False)
    assert "notes.csv" not in b
    assert {k: v for k, v in a.items() if k != "notes.csv"} == b


def test_streamed_files_are_the_chunks_concatenated(tmp_path):
    """Three chunks appended to one CSV: one header, every row of every chunk, in order, and
    ids unique across chunks (chunk c numbers its patients from c * chunk_size)."""
    cfg = SynthConfig(n_patients=400, chunk_size=150, seed=7)
    counts = generate(cfg, tmp_path / "export", progress=False)
    assert (tmp_path / "oracle" / "oracle.parquet").exists()  # default: beside export/
    parts = [chunk_tables(cfg, c, c * 150, min(150, 400 - c * 150)) for c in range(3)]
    for name in TABLES:
        expected = pl.concat([p[0][name] for p in parts])
        text = (tmp_path / "export" / f"{name}.csv").read_text()
        assert text.count(expected.columns[0] + ",") >= 1
        got = pl.read_csv(tmp_path / "export" / f"{name}.csv", infer_schema=False)
        assert got.height == expected.height == counts[name], name
        assert got.columns == expected.columns
        assert got[got.columns[0]].to_list() == expected[expected.columns[0]].cast(pl.String).to_list(), name
    oracle = pl.read_parquet(tmp_path / "oracle" / "oracle.parquet")
    assert oracle.equals(pl.concat([p[1] for p in parts]))
    patients = pl.read_csv(tmp_path / "export" / "patients.csv")
    assert patients["patient_id"].is_unique().all() and patients.height == 400


def test_two_chunk_sizes_give_the_same_hospital_in_distribution(tmp_path):
    """The draws depend on (seed, chunk), so bytes differ between chunk sizes, but the health
    system they describe is the same: counts per patient and outcome rates agree."""
    out = {}
    for chunk in (500, 2000):
        cfg = SynthConfig(n_patients=2000, chunk_size=chunk, seed=3, write_notes=False)
        counts = generate(cfg, tmp_path / str(chunk) / "export", progress=False)
        oracle = pl.read_parquet(tmp_path / str(chunk) / "oracle" / "oracle.parquet")
        # The oracle's mean P(yes) estimates each outcome's rate with less noise than the
        # labels (~1,400 stays hold only ~25 deaths).
        rates = oracle.filter(pl.col("task").is_in(["readmission", "mortality", "denial"])).group_by("task").agg(
            pl.col("probs").list.get(1).mean())
        out[chunk] = (counts, dict(rates.iter_rows()))
    (c1, r1), (c2, r2) = out[500], out[2000]
    assert c1["patients"] == c2["patients"] == 2000
    for name in ("encounters", "diagnoses", "claims", "oracle"):
        # frail patients with many stays make totals at 2,000 patients noisy
        assert abs(c1[name] / c2[name] - 1) < 0.15, (name, c1[name], c2[name])
    assert abs(r1["readmission"] - r2["readmission"]) < 0.02, (r1, r2)
    assert abs(r1["denial"] - r2["denial"]) < 0.02, (r1, r2)
    assert abs(r1["mortality"] - r2["mortality"]) < 0.008, (r1, r2)


PEAK = r"""
import json, re, sys
from pathlib import Path
from lang1core.synth import SynthConfig, generate
n, chunk, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
generate(SynthConfig(n_patients=n, chunk_size=chunk), out, progress=False)
# VmHWM (peak RSS of this process image); ru_maxrss would report the forking parent's.
kb = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)
print(json.dumps(int(kb) / 1024))
"""


def peak_rss_mb(tmp_path: Path, n: int, chunk: int) -> float:
    out = subprocess.run([sys.executable, "-c", PEAK, str(n), str(chunk), str(tmp_path / f"{n}_{chunk}" / "export")],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc (Linux)")
def test_memory_follows_the_chunk_not_n_patients(tmp_path):
    """Peak RSS of a fresh process (with notes): eight chunks of 1,000 patients cost about what
    one chunk does, and far less than the same 8,000 patients in a single chunk."""
    one = peak_rss_mb(tmp_path, 1000, 1000)
    streamed = peak_rss_mb(tmp_path, 8000, 1000)
    whole = peak_rss_mb(tmp_path, 8000, 8000)
    assert whole - one > 40, (one, streamed, whole)  # the measurement can see a chunk's size
    assert streamed - one < 0.5 * (whole - one), (one, streamed, whole)


@pytest.mark.parametrize(("kw", "needle"), [
    ({"n_patients": 0}, "n_patients"),
    ({"chunk_size": 0}, "chunk_size"),
    ({"start_year": 2020, "end_year": 2010}, "start_year"),
    ({"sites": ("a", "a")}, "sites"),
    ({"multipart_fraction": 1.5}, "multipart_fraction"),
])
def test_config_rejects_bad_values_by_name(kw, needle):
    with pytest.raises(ValueError, match=needle):
        SynthConfig(**kw)


def test_fewer_sites_and_years(tmp_path):
    cfg = SynthConfig(n_patients=300, chunk_size=300, start_year=2018, end_year=2020, sites=("north", "south"))
    generate(cfg, tmp_path / "export", progress=False)
    enc = pl.read_csv(tmp_path / "export" / "encounters.csv", schema_overrides={"admit_time": pl.Datetime("us")})
    assert set(enc["site"].unique()) == {"north", "south"}
    years = enc["admit_time"].dt.year()
    assert years.min() >= 2018 and years.max() <= 2021


def test_lang1_synth_command(tmp_path):
    out = subprocess.run([sys.executable, "-m", "lang1core.cli", "synth", str(tmp_path / "export"), "--n-patients",
                          "120", "--chunk-size", "50", "--seed", "9", "--no-corpus-notes"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for t in TABLES:
        assert (tmp_path / "export" / f"{t}.csv").stat().st_size > 0
    notes = pl.read_csv(tmp_path / "export" / "notes.csv", infer_schema=False)
    assert set(notes["note_type"].unique()) == {"history_and_physical", "discharge_summary"}
    assert (tmp_path / "oracle" / "oracle.parquet").exists()


def test_parallel_chunks_come_in_order_and_a_dead_worker_fails_the_run():
    """Workers may finish out of order; chunks are written in order. A worker killed (for
    memory, on a cluster) raises instead of leaving the run waiting forever."""
    import multiprocessing as mp
    import os
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from lang1core.synth.writer import in_order

    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        assert list(in_order(pool, abs, range(-7, 0), 2)) == [7, 6, 5, 4, 3, 2, 1]
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        with pytest.raises(BrokenProcessPool):
            list(in_order(pool, os._exit, [3, 3, 3], 2))


def test_workers_do_not_change_the_output(tmp_path):
    cfg = SynthConfig(n_patients=300, seed=11, chunk_size=100)
    generate(cfg, tmp_path / "a" / "export", progress=False, workers=1)
    generate(cfg, tmp_path / "b" / "export", progress=False, workers=2)
    for name in ("notes.csv", "encounters.csv", "diagnoses.csv"):
        assert (tmp_path / "a" / "export" / name).read_bytes() == (tmp_path / "b" / "export" / name).read_bytes()
    assert (tmp_path / "a" / "oracle" / "oracle.parquet").read_bytes() == \
        (tmp_path / "b" / "oracle" / "oracle.parquet").read_bytes()
