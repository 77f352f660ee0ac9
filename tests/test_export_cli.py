"""`lang1 validate-export`: summary, exit codes, and what --out keeps."""

from __future__ import annotations

import json

import pytest
from export_helpers import HEADERS, make_export, valid_rows

from lang1core import cli


def test_usable_export_exits_zero_and_prints_counts(tmp_path, capsys):
    src = make_export(tmp_path / "export")
    assert cli.main(["validate-export", str(src), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "notes                4          4         0" in out
    assert not list(tmp_path.glob("**/report.json"))  # nothing kept without --out


def test_missing_column_exits_2_naming_file_and_column(tmp_path, capsys):
    headers = {"encounters": [h if h != "admit_time" else "admission_time" for h in HEADERS["encounters"]]}
    src = make_export(tmp_path / "export", headers=headers)
    assert cli.main(["validate-export", str(src), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "unusable" in err
    assert "encounters.csv: missing column 'admit_time'; found 'admission_time'" in err


def test_missing_table_exits_2(tmp_path, capsys):
    src = make_export(tmp_path / "export")
    (src / "notes.csv").unlink()
    assert cli.main(["validate-export", str(src), "--quiet"]) == 2
    assert "notes: no notes.csv" in capsys.readouterr().err


def test_reject_rate_sets_exit_code_and_summary_shows_examples(tmp_path, capsys):
    rows = valid_rows()
    rows["notes"][3][4] = "soon"  # the radiology note: no task needs it
    src = make_export(tmp_path / "export", rows)
    out_dir = tmp_path / "validated"
    code = cli.main(["validate-export", str(src), "--out", str(out_dir), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1  # 1 of 4 notes > 5% default
    assert "unparsable note_time" in out
    assert "e.g. notes.csv, row 4, column note_time: a value shaped 'aaaa' is not an ISO-8601 date-time" in out
    assert "FAILED: notes: 1 of 4 rows rejected" in out
    report = json.loads((out_dir / "report.json").read_text())
    assert report["tables"]["notes"]["reasons"] == {"unparsable note_time": 1}
    assert (out_dir / "rejected" / "notes.parquet").exists()
    assert cli.main(["validate-export", str(src), "--max-reject-rate", "0.3", "--quiet"]) == 0


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["validate-export", "--help"])
    out = capsys.readouterr().out
    for opt in ("--out", "--format", "--max-reject-rate", "--examples", "--quiet", "Exit status"):
        assert opt in out
