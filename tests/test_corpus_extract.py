"""Extract + clean on bad exports: each bad input is handled and counted, and counts reconcile."""

from __future__ import annotations

import polars as pl
from corpus_helpers import LONG, dropped, rejected, run_corpus
from export_helpers import HEADERS, make_export, valid_rows

from lang1core.corpus import text as T


def with_notes(*extra):
    rows = valid_rows()
    rows["notes"] = rows["notes"] + [list(r) for r in extra]
    return rows


def note(nid, text, time="2021-03-02T10:00:00", enc="E1", pat="P1", kind="progress"):
    return [nid, pat, enc, kind, time, text]


def reconciles(counts, stats):
    assert counts["export_rows"] == counts["rows_in_kept_notes"] + sum(counts["rejected_rows"].values())
    assert stats["input_notes"] == counts["notes"] == stats["kept_notes"] + stats["dropped_notes"]


def test_valid_export_extracts_every_note_with_metadata(tmp_path):
    counts, stats, out = run_corpus(tmp_path)
    notes = pl.read_parquet(out / "notes.parquet")
    assert counts["notes"] == 4 and counts["rejected_rows"] == {"validate": 0, "extract": 0}
    n3 = notes.filter(pl.col("note_id") == "N3").row(0, named=True)
    assert (n3["site"], n3["department"], n3["region"], n3["note_type"]) == ("site_b", "pediatrics", "south",
                                                                             "history_and_physical")
    # N4 has no encounter: no site, but kept
    assert notes.filter(pl.col("note_id") == "N4")["site"][0] is None
    reconciles(counts, stats)


def test_empty_and_whitespace_only_text(tmp_path):
    counts, stats, out = run_corpus(tmp_path, with_notes(note("N5", ""), note("N6", "   \t  ")))
    assert dropped(out)["N5"] == dropped(out)["N6"] == T.EMPTY
    assert stats["dropped"][T.EMPTY]["by_note_type"] == {"progress": 2}
    reconciles(counts, stats)


def test_all_non_ascii_text(tmp_path):
    non_ascii = "\u60a3\u8005\u306f\u5143\u6c17\u3067\u3059 \u00e9\u00e8"
    counts, stats, out = run_corpus(tmp_path, with_notes(note("N5", non_ascii)))
    assert dropped(out)["N5"] == T.NON_ASCII_ONLY
    reconciles(counts, stats)


def test_nul_bytes_are_rejected_and_counted(tmp_path):
    counts, stats, out = run_corpus(tmp_path, with_notes(note("N5", LONG + "\x00 tail")))
    rej = rejected(out)
    row = rej.filter(pl.col("note_id") == "N5").row(0, named=True)
    assert row["stage"] == "validate" and row["reason"] == "NUL byte in text"
    assert counts["rejected_by_reason"] == {"validate: NUL byte in text": 1}
    reconciles(counts, stats)


def test_one_megabyte_note_is_kept_whole(tmp_path):
    big = ("The patient remains stable on the ward today. " * 23000)[:1_000_000]
    counts, stats, out = run_corpus(tmp_path, with_notes(note("N5", big)))
    clean = pl.read_parquet(out / "clean.parquet").filter(pl.col("note_id") == "N5")
    assert clean.height == 1 and clean["n_chars"][0] > 990_000 and clean["n_words"][0] > 150_000
    reconciles(counts, stats)


def test_broken_csv_quoting(tmp_path):
    src = make_export(tmp_path / "export", with_notes(note("N5", LONG)))
    text = (src / "notes.csv").read_text().replace("Discharged home, stable.", '"Discharged home, stable.')
    (src / "notes.csv").write_text(text)
    counts, stats, out = run_corpus(tmp_path, export_dir=src)
    assert "validate: malformed CSV" in counts["rejected_by_reason"]
    assert counts["rejected_rows"]["validate"] >= 1
    assert "N1" in set(pl.read_parquet(out / "notes.parquet")["note_id"])
    reconciles(counts, stats)


def test_missing_note_time(tmp_path):
    counts, stats, out = run_corpus(tmp_path, with_notes(note("N5", LONG, time="")))
    assert counts["rejected_by_reason"] == {"validate: missing note_time": 1}
    assert rejected(out)["note_id"].to_list() == ["N5"]
    reconciles(counts, stats)


def test_note_whose_encounter_does_not_exist(tmp_path):
    counts, stats, out = run_corpus(tmp_path, with_notes(note("N5", LONG, enc="E404")))
    [(reason, n)] = counts["rejected_by_reason"].items()
    assert reason.startswith("validate: ") and "encounter_id" in reason and n == 1
    assert "N5" not in set(pl.read_parquet(out / "notes.parquet")["note_id"])
    reconciles(counts, stats)


def multipart(parts):
    rows = valid_rows()
    rows["notes"] = [r + ["1"] for r in rows["notes"]] + parts
    return rows, {"notes": HEADERS["notes"] + ["part"]}


def test_multi_part_notes_join_in_part_order(tmp_path):
    base = ["N9", "P1", "E1", "progress", "2021-03-03T10:00:00"]
    rows, headers = multipart([base + ["third part here.", "3"], base + ["First part,", "1"],
                               base + ["second part,", "2"]])
    counts, stats, out = run_corpus(tmp_path, rows, headers)
    n9 = pl.read_parquet(out / "notes.parquet").filter(pl.col("note_id") == "N9").row(0, named=True)
    assert n9["text"] == "First part,\nsecond part,\nthird part here." and n9["n_parts"] == 3
    assert counts["multi_part_notes"] == 1 and counts["rows_in_kept_notes"] == 7
    reconciles(counts, stats)


def test_incomplete_multi_part_notes_are_rejected_whole(tmp_path):
    gap = ["N8", "P1", "E1", "progress", "2021-03-03T10:00:00"]
    bad = ["N9", "P1", "E1", "progress", "2021-03-04T10:00:00"]
    rows, headers = multipart([gap + ["part one", "1"], gap + ["part three", "3"],
                               bad + [LONG, "1"], bad + ["has a NUL \x00 byte", "2"]])
    counts, stats, out = run_corpus(tmp_path, rows, headers)
    rej = rejected(out)
    assert counts["rejected_by_reason"] == {"extract: missing part": 2, "extract: part rejected by validation": 1,
                                            "validate: NUL byte in text": 1}
    assert set(rej.filter(pl.col("stage") == "extract")["note_id"]) == {"N8", "N9"}
    assert not {"N8", "N9"} & set(pl.read_parquet(out / "notes.parquet")["note_id"])
    reconciles(counts, stats)


def test_corpus_stats_command(tmp_path, capsys):
    from lang1core.cli import main

    from lang1core.corpus.io import write_json

    counts, stats, out = run_corpus(tmp_path, with_notes(note("N5", "")))
    write_json(out / "extract_stats.json", counts)
    write_json(out / "clean_stats.json", stats)
    assert main(["corpus-stats", str(tmp_path / "out"), "--by", "site"]) == 0
    out = capsys.readouterr().out
    assert "extract: 5 export rows -> 5 notes" in out
    assert "empty  (progress 1)" in out
    assert "| site_a |" in out and "| unknown |" in out     # N4 has no encounter
