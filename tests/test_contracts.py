"""The stage contracts (lang1core/contracts.py): run-name grammar and typed table reading."""

from __future__ import annotations

import polars as pl
import pytest

from lang1core.contracts import (TABLE_SCHEMAS, base_model, n_prob_columns, parse_snapshot, read_table,
                                 snapshot_name, strip_snapshot, table_frame)


def test_snapshot_names_round_trip_and_scratch_has_no_base():
    assert parse_snapshot(snapshot_name("clinical_only", 12)) == ("clinical_only", 12)
    assert parse_snapshot("lang1") is None and parse_snapshot("lang1-s") is None
    assert strip_snapshot("lang1-s3") == "lang1" and strip_snapshot("scratch") == "scratch"
    assert base_model("lang1-s3") == "lang1" and base_model("scratch") is None


def test_prob_columns_count_the_unbroken_run():
    assert n_prob_columns(["example_id", "prob_0", "prob_1", "prob_3"]) == 2


def test_tables_read_back_typed_as_written(tmp_path):
    row = {"direction": "los|mortality", "given": "yes", "outcome": "0-3", "probability": 0.25, "n": 4,
           "status": "ok"}
    table_frame("conditional", [row]).write_csv(tmp_path / "conditional.csv")
    df = read_table(tmp_path / "conditional.csv", "conditional")
    assert df.schema == pl.Schema(TABLE_SCHEMAS["conditional"]) and df.row(0, named=True) == row


def test_a_bad_table_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "conditional.csv"
    path.write_text("direction,given,outcome,probability,status\n")
    with pytest.raises(ValueError, match=r"conditional.csv: missing column\(s\) \['n'\]"):
        read_table(path, "conditional")
    path.write_text("direction,given,outcome,probability,n,status\nx,y,z,0.5,many,ok\n")
    with pytest.raises(ValueError, match="conditional.csv: a value does not parse"):
        read_table(path, "conditional")
    assert read_table(path, "conditional", lenient=True)["n"].to_list() == [None]
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        read_table(path, "nope")
