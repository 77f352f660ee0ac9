"""General text sources and pretraining mixes: formats, exclusions and the leak check."""

from __future__ import annotations

import json

import polars as pl
import pytest
from corpus_helpers import LONG, run_corpus
from export_helpers import valid_rows

from lang1core.corpus import mix as M
from lang1core.corpus.general import build_general, stdlib_documents

DOC = "General text about the weather and other topics, long enough to be kept by cleaning rules."


def test_stdlib_harvest_is_english_docs_and_offline():
    docs = list(stdlib_documents())
    assert len(docs) > 100
    origins = [o for o, _ in docs]
    assert any(o.startswith("stdlib:json/") for o in origins)
    assert not any("/test/" in o or "site-packages" in o for o in origins)
    assert sum(len(t) for _, t in docs) > 500_000


def test_general_file_formats_and_globs(tmp_path):
    import zstandard

    (tmp_path / "a.txt").write_text(DOC)
    (tmp_path / "b.txt").write_text("too short")
    lines = [json.dumps({"text": f"{DOC} number {i}"}) for i in range(3)] + ["", json.dumps({"text": ""})]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "d.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(("\n".join(lines) + "\n").encode()))
    pl.DataFrame({"text": [DOC + " parquet", None]}).write_parquet(tmp_path / "e.parquet")
    stats = build_general({"web": [str(tmp_path / "*.txt"), str(tmp_path / "c.jsonl"), str(tmp_path / "d.jsonl.zst")],
                           "books": [str(tmp_path / "e.parquet")]}, tmp_path / "general.parquet")
    g = pl.read_parquet(tmp_path / "general.parquet")
    assert stats["sources"]["web"] == {**stats["sources"]["web"], "read": 10, "kept": 7,
                                       "dropped": {"empty": 2, "under_min_words": 1}}
    assert stats["sources"]["books"]["kept"] == 1 and stats["sources"]["books"]["dropped"] == {"empty": 1}
    assert g["doc_id"].n_unique() == g.height == 8
    assert set(g["source"]) == {"web", "books"}


def test_general_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        build_general({"web": [str(tmp_path / "nothing-here*.txt")]}, tmp_path / "g.parquet")
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\nnot json\n')
    with pytest.raises(ValueError, match="bad.jsonl, line 2"):
        build_general({"web": [str(tmp_path / "bad.jsonl")]}, tmp_path / "g.parquet")


def note(nid, time, enc, pat):
    return [nid, pat, enc, "progress", time, f"{LONG} Note {nid}."]


@pytest.fixture
def corpus(tmp_path):
    rows = valid_rows()
    rows["notes"] = [
        note("A1", "2019-05-01T10:00:00", "E1", "P1"),      # site_a, eligible
        note("A2", "2021-05-31T23:59:00", "E1", "P1"),      # day before the window: eligible
        note("W1", "2021-06-01T00:00:00", "E1", "P1"),      # first minute of the test window
        note("W2", "2021-12-31T23:59:59", "E1", "P1"),      # last second of the window
        note("B1", "2020-02-02T10:00:00", "E2", "P2"),      # site_b: held out below
        note("C1", "2023-12-31T23:59:59", "E1", "P1"),      # last second before the cutoff
        note("C2", "2024-01-01T00:00:00", "E1", "P1"),      # after the cutoff
        note("X1", "2020-03-03T10:00:00", "", "P2"),        # no encounter; P2 seen at site_b
        note("X2", "2020-03-04T10:00:00", "", "P1"),        # no encounter; P1 never at site_b
    ] + [note(f"A{i}", f"2018-01-{i:02d}T10:00:00", "E1", "P1") for i in range(3, 25)]
    counts, stats, out = run_corpus(tmp_path, rows)
    pl.DataFrame({"doc_id": [f"g:{i}" for i in range(30)], "source": ["general"] * 30,
                  "origin": ["x"] * 30, "n_words": [10] * 30,
                  "text": [f"{DOC} {i}" for i in range(30)]}).write_parquet(out / "general.parquet")
    return out


def build(out, weights=None, **kw):
    args = dict(validated_dir=out.parent / "validated", cutoff="2023-12-31",
                exclude_periods=[{"start": "2021-06-01", "end": "2021-12-31"}], held_out_site="site_b",
                val_fraction=0.1, min_val_documents=2, seed=3407)
    args.update(kw)
    return M.build_mix(weights or {"clinical": 1, "general": 1}, out / "clean.parquet", out / "general.parquet",
                       out / "train.parquet", out / "val.parquet", **args)


def test_cutoff_window_and_held_out_site_never_reach_pretraining(corpus):
    stats = build(corpus)
    assert stats["clinical_exclusions"] == {M.AFTER_CUTOFF: 1, M.EXCLUDED_PERIOD: 2, M.HELD_OUT_SITE: 1,
                                            M.HELD_OUT_PATIENT: 1}
    assert stats["leak_check"] == dict.fromkeys(stats["leak_check"], 0)
    docs = pl.concat([pl.read_parquet(corpus / "train.parquet"), pl.read_parquet(corpus / "val.parquet")])
    ids = set(docs["doc_id"])
    assert {"A1", "A2", "C1", "X2"} <= ids
    assert not {"W1", "W2", "B1", "C2", "X1"} & ids
    clinical = docs.filter(pl.col("source") == "clinical")
    assert clinical["site"].drop_nulls().to_list() == ["site_a"] * (clinical.height - 1)
    assert stats["clinical_input_notes"] == clinical.height + sum(stats["clinical_exclusions"].values())


def test_leak_check_catches_a_leaked_note(corpus):
    build(corpus)
    leaked = pl.read_parquet(corpus / "clean.parquet").filter(pl.col("note_id") == "W1").rename({"note_id": "doc_id"})
    leaked = leaked.with_columns(pl.lit("clinical").alias("source")).select(list(M.MIX_COLUMNS))
    pl.concat([pl.read_parquet(corpus / "train.parquet"), leaked]).write_parquet(corpus / "leaky.parquet")
    counts = M.leak_counts([corpus / "leaky.parquet"], "2023-12-31", [{"start": "2021-06-01", "end": "2021-12-31"}],
                           "site_b", M.held_out_patients(corpus.parent / "validated", "site_b"))
    assert counts[M.EXCLUDED_PERIOD] == 1


def test_validation_share_is_per_source_and_deterministic(corpus):
    build(corpus)
    first = pl.read_parquet(corpus / "val.parquet")
    assert first.group_by("source").len().sort("source").rows() == [("clinical", 3), ("general", 3)]
    train = pl.read_parquet(corpus / "train.parquet")
    assert not set(first["doc_id"]) & set(train["doc_id"])
    assert train["source"].to_list() == sorted(train["source"].to_list())   # grouped for the shard writer
    build(corpus)
    assert pl.read_parquet(corpus / "val.parquet").equals(first)


def test_single_source_mixes_and_bad_names(corpus):
    stats = build(corpus, {"general": 1})
    assert set(stats["sources"]) == {"general"} and "clinical_exclusions" not in stats
    with pytest.raises(ValueError, match="slimpajama"):
        build(corpus, {"clinical": 1, "slimpajama": 1})
    with pytest.raises(ValueError, match="non-negative"):
        build(corpus, {"clinical": -1})
