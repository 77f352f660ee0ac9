"""Export validation: every kind of bad input is rejected by row with a reason that names it."""

from __future__ import annotations

import gzip
import json

import polars as pl
import pytest
from export_helpers import HEADERS, make_export, valid_rows, write_csv

from lang1core.export import CONTRACT, TABLE_ORDER, ExportSchemaError, read_table, validate_export


def run(tmp_path, rows=None, headers=None, **kw):
    src = make_export(tmp_path / "export", rows, headers)
    return validate_export(src, tmp_path / "out", **kw), tmp_path / "out"


def rejected(out, table) -> pl.DataFrame:
    return pl.read_parquet(out / "rejected" / f"{table}.parquet")


def only_reason(report, table):
    reasons = report["tables"][table]["reasons"]
    assert len(reasons) == 1, reasons
    return next(iter(reasons))


def test_valid_export_keeps_everything_typed(tmp_path):
    report, out = run(tmp_path)
    for t in TABLE_ORDER:
        r = report["tables"][t]
        assert r["read"] == r["kept"] == len(valid_rows()[t]) and r["rejected"] == 0
        df = pl.read_parquet(out / f"{t}.parquet")
        for col, dtype in CONTRACT[t].items():
            if col in df.columns:
                assert df.schema[col] == dtype, (t, col)
    enc = pl.read_parquet(out / "encounters.parquet")
    # Categories are normalised lowercase; the space-separated time form is accepted.
    assert enc["encounter_class"].to_list() == ["inpatient", "inpatient", "emergency"]
    assert str(enc["admit_time"][1]) == "2022-01-10 09:00:00"
    notes = pl.read_parquet(out / "notes.parquet")
    assert notes["text"][0].startswith('HPI: 71F with CHF, "worse dyspnea".\nPlan')
    assert notes["encounter_id"][3] is None
    assert pl.read_parquet(out / "diagnoses.parquet")["icd_version"].to_list() == ["icd10"] * 3
    assert json.loads((out / "report.json").read_text())["ok"] is True


def test_missing_and_misnamed_columns_fail_the_run_naming_them(tmp_path):
    headers = {"patients": ["Patient_ID", "birthdate", "sex", "race", "ethnicity", "region"],
               "claims": HEADERS["claims"][:-1]}
    rows = {"claims": [r[:-1] for r in valid_rows()["claims"]]}
    with pytest.raises(ExportSchemaError) as err:
        run(tmp_path, rows, headers)
    msg = str(err.value)
    assert "patients.csv: missing column 'patient_id'; found 'Patient_ID'" in msg
    assert "missing column 'birth_date'; found 'birthdate'" in msg
    assert "claims.csv: missing column 'determination_date'" in msg
    assert not (tmp_path / "out" / "patients.parquet").exists()


def test_missing_table_names_the_close_file(tmp_path):
    src = make_export(tmp_path / "export")
    (src / "claims.csv").rename(src / "claim.csv")
    with pytest.raises(ExportSchemaError, match=r"claims: no claims.csv .* \(close: claim.csv\)"):
        validate_export(src, tmp_path / "out")


def test_unparsable_date_rejects_the_row_and_cascades_to_children(tmp_path):
    rows = valid_rows()
    rows["encounters"][0][6] = "2021-13-01T08:15:00"
    report, out = run(tmp_path, rows)
    assert report["tables"]["encounters"]["reasons"] == {"unparsable admit_time": 1}
    rej = rejected(out, "encounters")
    assert rej["row"].to_list() == [1]
    assert rej["admit_time"].to_list() == ["2021-13-01T08:15:00"]  # original string kept
    # The detail describes the value's shape, never the value (dates are patient data).
    assert rej["detail"][0].startswith("encounters.csv, row 1, column admit_time: a value shaped "
                                       "'9999-99-99T99:99:99' is not an ISO-8601 date-time")
    # Notes, diagnoses and claims of the rejected encounter go too, and say why.
    assert report["tables"]["notes"]["reasons"] == {"encounter_id of a rejected encounters row": 2}
    assert report["tables"]["diagnoses"]["rejected"] == 2
    assert report["tables"]["claims"]["rejected"] == 1


def test_discharge_before_admission(tmp_path):
    rows = valid_rows()
    rows["encounters"][1][7] = "2022-01-09T10:30:00"
    report, out = run(tmp_path, rows)
    assert only_reason(report, "encounters") == "discharge_time before admit_time"
    assert rejected(out, "encounters")["row"].to_list() == [2]


def test_duplicate_ids_keep_the_first_and_name_it(tmp_path):
    rows = valid_rows()
    rows["patients"].append(["P1", "1950-02-03", "female", "white", "", ""])
    rows["diagnoses"].append(["E1", "N18.6", "2"])  # position 2 taken
    report, out = run(tmp_path, rows)
    assert report["tables"]["patients"]["reasons"] == {"duplicate patient_id": 1}
    assert "patients.csv, row 4: patient_id repeats row 1" in rejected(out, "patients")["detail"][0]
    assert report["tables"]["diagnoses"]["reasons"] == {"duplicate encounter_id+position": 1}
    assert report["tables"]["encounters"]["rejected"] == 0  # P1's first row is kept


@pytest.mark.parametrize("table, row, column", [
    ("encounters", ["E9", "P404", "site_a", "medicine", "inpatient", "urgent",
                    "2021-01-01T00:00:00", "2021-01-02T00:00:00", "home", "x"], "patient_id"),
    ("notes", ["N9", "P1", "E404", "progress", "2021-03-02T00:00:00", "text"], "encounter_id"),
    ("diagnoses", ["E404", "I10", "1"], "encounter_id"),
    ("claims", ["C9", "E404", "x", "paid", "2021-01-01", ""], "encounter_id"),
])
def test_orphan_foreign_keys(tmp_path, table, row, column):
    rows = valid_rows()
    rows[table].append(row)
    report, out = run(tmp_path, rows)
    assert report["tables"][table]["reasons"] == {f"orphan {column}": 1}
    detail = rejected(out, table)["detail"][0]
    assert f"{table}.csv, row {len(rows[table])}, column {column}:" in detail and "no such id in" in detail


def test_note_filed_under_another_patients_encounter(tmp_path):
    rows = valid_rows()
    rows["notes"][2][1] = "P1"  # N3 is on E2, which is P2's
    report, _ = run(tmp_path, rows)
    assert report["tables"]["notes"]["reasons"] == {"patient_id differs from its encounter's": 1}


def test_unknown_encounter_class(tmp_path):
    rows = valid_rows()
    rows["encounters"][2][4] = "telepathy"
    report, out = run(tmp_path, rows)
    assert only_reason(report, "encounters") == "unknown encounter_class"
    assert "'telepathy' is not one of inpatient" in rejected(out, "encounters")["detail"][0]


def test_missing_note_time(tmp_path):
    rows = valid_rows()
    rows["notes"][1][4] = ""
    report, out = run(tmp_path, rows)
    assert only_reason(report, "notes") == "missing note_time"
    assert rejected(out, "notes")["detail"][0] == "notes.csv, row 2, column note_time: empty"


def test_nul_byte_in_text(tmp_path):
    rows = valid_rows()
    rows["notes"][3][5] = "CXR:\x00 no acute process."
    report, out = run(tmp_path, rows)
    assert only_reason(report, "notes") == "NUL byte in text"
    assert rejected(out, "notes")["row"].to_list() == [4]


def test_non_utf8_bytes(tmp_path):
    src = make_export(tmp_path / "export")
    raw = (src / "notes.csv").read_bytes().replace(b"Discharged home", b"Discharged h\xf4me")
    (src / "notes.csv").write_bytes(raw)
    report = validate_export(src, tmp_path / "out")
    r = report["tables"]["notes"]
    assert r["reasons"] == {"non-UTF-8 bytes": 1} and r["kept"] == 3
    assert any("not UTF-8" in p for p in r["problems"])
    assert "notes.csv, row 2, column text: bytes that are not UTF-8" in \
        rejected(tmp_path / "out", "notes")["detail"][0]


def test_malformed_quoting_is_recovered_row_by_row(tmp_path):
    src = make_export(tmp_path / "export")
    text = (src / "notes.csv").read_text()
    # N2's text opens a quote that never closes; a stray character follows N3's closing quote.
    text = text.replace("Discharged home, stable.", '"Discharged home, stable.')
    text = text.replace('"6M, asthma exacerbation."', '"6M, asthma exacerbation."x')
    (src / "notes.csv").write_text(text)
    report = validate_export(src, tmp_path / "out")
    r = report["tables"]["notes"]
    assert r["recovered"] is True
    assert r["read"] == r["kept"] + r["rejected"]
    kept = pl.read_parquet(tmp_path / "out" / "notes.parquet")
    # N1 (multi-line text) and N4 survive; the broken records are rejected with their lines.
    assert set(kept["note_id"]) == {"N1", "N4"}
    assert kept.filter(pl.col("note_id") == "N1")["text"][0].endswith("daily weights.")
    assert set(r["reasons"]) == {"malformed CSV"}
    details = " ".join(rejected(tmp_path / "out", "notes")["detail"])
    assert "notes.csv, row 2, line 4:" in details
    assert any(p.startswith("notes.csv: line") for p in r["problems"])


def test_counts_reconcile_and_rejected_files_match(tmp_path):
    rows = valid_rows()
    rows["patients"][2][1] = "11/11/1988"
    rows["notes"].append(["N5", "P2", "E2", "progress", "not a time", "x"])
    rows["diagnoses"].append(["E2", "J45.901", "0"])
    report, out = run(tmp_path, rows)
    for t in TABLE_ORDER:
        r = report["tables"][t]
        assert r["read"] == r["kept"] + r["rejected"] == len(rows[t])
        assert sum(r["reasons"].values()) == r["rejected"]
        assert pl.read_parquet(out / f"{t}.parquet").height == r["kept"]
        assert rejected(out, t).height == r["rejected"]
    assert report["tables"]["diagnoses"]["reasons"] == {"invalid position": 1}
    # P3 was rejected: its encounter, and through it nothing else, follows.
    assert report["tables"]["encounters"]["reasons"] == {"patient_id of a rejected patients row": 1}


def test_reject_rate_limit(tmp_path):
    rows = valid_rows()
    rows["claims"][0][4] = "yesterday"
    report, _ = run(tmp_path, rows, max_reject_rate=0.4)
    assert report["ok"] is False and report["failures"][0].startswith("claims: 1 of 2 rows rejected")
    report, _ = run(tmp_path / "again", rows, max_reject_rate=0.5)
    assert report["ok"] is True


def test_multi_part_notes_keep_part(tmp_path):
    rows = valid_rows()
    notes = [r + ["1"] for r in rows["notes"]] + [["N1", "P1", "E1", "history_and_physical",
                                                  "2021-03-01T09:00:00", "Exam: JVD.", "2"],
                                                 ["N1", "P1", "E1", "history_and_physical",
                                                  "2021-03-01T09:00:00", "dup part", "2"]]
    report, out = run(tmp_path, {"notes": notes}, {"notes": HEADERS["notes"] + ["part"]})
    assert report["tables"]["notes"]["reasons"] == {"duplicate note_id+part": 1}
    kept = pl.read_parquet(out / "notes.parquet")
    assert kept.schema["part"] == pl.Int64 and kept.height == 5


def test_parquet_and_gzip_sources(tmp_path):
    src = make_export(tmp_path / "export")
    # Typed parquet (as a site might write from SQL) and a gzipped CSV read like plain CSV.
    enc = pl.read_csv(src / "encounters.csv", try_parse_dates=True)
    enc.write_parquet(src / "encounters.parquet")
    (src / "encounters.csv").unlink()
    (src / "notes.csv.gz").write_bytes(gzip.compress((src / "notes.csv").read_bytes()))
    (src / "notes.csv").unlink()
    report = validate_export(src, tmp_path / "out")
    assert report["tables"]["encounters"]["format"] == "parquet"
    assert report["tables"]["notes"]["format"] == "csv.gz"
    assert all(r["rejected"] == 0 for r in report["tables"].values())
    assert read_table(src, "notes").collect()["row"].to_list() == [1, 2, 3, 4]


def test_two_formats_of_one_table_are_ambiguous(tmp_path):
    src = make_export(tmp_path / "export")
    pl.read_csv(src / "claims.csv").write_parquet(src / "claims.parquet")
    with pytest.raises(ExportSchemaError, match="several files"):
        validate_export(src, tmp_path / "out")
    report = validate_export(src, tmp_path / "out", fmt="csv")
    assert report["tables"]["claims"]["format"] == "csv"


def test_blank_required_and_ragged_rows(tmp_path):
    src = make_export(tmp_path / "export")
    with open(src / "diagnoses.csv", "a") as f:
        f.write("E2,K21.9\n")  # one field short
    report = validate_export(src, tmp_path / "out")
    r = report["tables"]["diagnoses"]
    assert r["reasons"] == {"malformed CSV": 1} and r["kept"] == 3
    assert "2 fields, header has 3" in r["examples"]["malformed CSV"][0]


def test_write_csv_helper_roundtrip(tmp_path):
    p = write_csv(tmp_path / "x.csv", ["a"], [["1"]])
    assert p.read_text().splitlines() == ["a", "1"]


def test_large_note_bom_and_header_only_table(tmp_path):
    rows = valid_rows()
    rows["notes"][1][5] = "word " * 200_000 + "\nend"  # a 1 MB note, longer than csv's default field limit
    rows["claims"] = []
    src = make_export(tmp_path / "export", rows)
    (src / "patients.csv").write_bytes(b"\xef\xbb\xbf" + (src / "patients.csv").read_bytes())
    report = validate_export(src, tmp_path / "out")
    assert all(r["rejected"] == 0 for r in report["tables"].values())
    assert report["tables"]["claims"]["read"] == 0
    notes = pl.read_parquet(tmp_path / "out" / "notes.parquet")
    assert len(notes["text"][1]) == 1_000_004
    assert pl.read_parquet(tmp_path / "out" / "patients.parquet")["patient_id"].to_list() == ["P1", "P2", "P3"]


def test_read_validated_checks_the_schema(tmp_path):
    from lang1core.export import read_validated

    _, out = run(tmp_path)
    assert read_validated(out, "notes").collect().height == 4
    pl.read_parquet(out / "claims.parquet").with_columns(pl.col("submitted_date").cast(pl.String)) \
        .write_parquet(out / "claims.parquet")
    with pytest.raises(ValueError, match="column 'submitted_date' is String, expected Date"):
        read_validated(out, "claims")
