"""`lang1 validate-export` on bad input, one fault per case: the exit code, a message naming
file, row, column and reason (with a hint where one is guessable), and reconciliation: a
report's tables each read = kept + rejected, and an unusable export leaves nothing behind
(no tables, no staged copies)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from export_helpers import HEADERS, make_export, valid_rows, write_csv

from lang1core import cli

COL = {t: {c: i for i, c in enumerate(h)} for t, h in HEADERS.items()}


def cell(table, row, column, value):
    """A rows edit: set one cell (row is 0-based in valid_rows)."""
    def edit(rows):
        rows[table][row][COL[table][column]] = value
    return edit


def column(table, col, fn):
    """A rows edit: rewrite one column of every row."""
    def edit(rows):
        for r in rows[table]:
            r[COL[table][col]] = fn(r[COL[table][col]])
    return edit


def append(table, row):
    def edit(rows):
        rows[table].append(list(row))
    return edit


def empty(table):
    def edit(rows):
        rows[table] = []
    return edit


def us_date(v: str) -> str:
    return f"{v[5:7]}/{v[8:10]}/{v[:4]}" if v else v


def us_datetime(v: str) -> str:
    return f"{us_date(v[:10])} {v[11:16]}" if v else v


def rewrite(table, fn):
    """A file edit: transform the table's CSV bytes."""
    def edit(folder: Path):
        p = folder / f"{table}.csv"
        p.write_bytes(fn(p.read_bytes()))
    return edit


def to_parquet(table, **casts):
    """A file edit: replace the CSV by a parquet file, columns cast as given."""
    def edit(folder: Path):
        df = pl.read_csv(folder / f"{table}.csv", infer_schema=False)
        df = df.with_columns(**{c: f(pl.col(c)) for c, f in casts.items()})
        df.write_parquet(folder / f"{table}.parquet")
        (folder / f"{table}.csv").unlink()
    return edit


def semicolons_everywhere(folder: Path):
    """A file edit: every table written ';'-separated (as a European Excel does)."""
    import csv

    for table in HEADERS:
        p = folder / f"{table}.csv"
        with open(p, newline="", encoding="utf-8") as f:
            recs = list(csv.reader(f))
        with open(p, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, delimiter=";").writerows(recs)


def write_bytes(name, data: bytes, drop: str | None = None):
    def edit(folder: Path):
        (folder / name).write_bytes(data)
        if drop:
            (folder / drop).unlink()
    return edit


def gzip_truncated(table):
    def edit(folder: Path):
        data = gzip.compress((folder / f"{table}.csv").read_bytes())
        (folder / f"{table}.csv.gz").write_bytes(data[: len(data) // 2])
        (folder / f"{table}.csv").unlink()
    return edit


def header(table, fn):
    def edit(folder: Path):
        rows = valid_rows()
        write_csv(folder / f"{table}.csv", fn(list(HEADERS[table])), rows[table])
    return edit


NOTE_TEXT = COL["notes"]["text"]

# id -> (rows edit | None, file edit | None, extra args, exit code, message, (table, reason) | None)
CASES = {
    # --- rows rejected (exit 1 at the default 5% limit) ---------------------------------------
    "bad_month": (cell("encounters", 0, "admit_time", "2021-13-01T08:15:00"), None, [], 1,
                  "encounters.csv, row 1, column admit_time: a value shaped '9999-99-99T99:99:99' is not an "
                  "ISO-8601 date-time", ("encounters", "unparsable admit_time")),
    "us_birth_date": (cell("patients", 1, "birth_date", "07/30/2015"), None, [], 1,
                      "patients.csv, row 2, column birth_date: a value shaped '99/99/9999' is not an ISO-8601 "
                      "date (YYYY-MM-DD) — it looks like MM/DD/YYYY (or DD/MM/YYYY); set export.date_format",
                      ("patients", "unparsable birth_date")),
    "all_us_note_times": (column("notes", "note_time", us_datetime), None, [], 1,
                          "set export.datetime_format, e.g. '%m/%d/%Y %H:%M'", ("notes", "unparsable note_time")),
    "epoch_text": (cell("encounters", 1, "admit_time", "1614586500"), None, [], 1,
                   "it looks like epoch seconds/milliseconds", ("encounters", "unparsable admit_time")),
    "empty_patient_id": (cell("patients", 2, "patient_id", ""), None, [], 1,
                         "patients.csv, row 3, column patient_id: empty", ("patients", "missing patient_id")),
    "empty_note_type": (cell("notes", 3, "note_type", " "), None, [], 1,
                        "notes.csv, row 4, column note_type: empty", ("notes", "missing note_type")),
    "empty_birth_date": (cell("patients", 2, "birth_date", ""), None, [], 1,
                         "patients.csv, row 3, column birth_date: empty", ("patients", "missing birth_date")),
    "unknown_class": (cell("encounters", 2, "encounter_class", "inpt"), None, [], 1,
                      "encounters.csv, row 3, column encounter_class: 'inpt' is not one of inpatient, observation, "
                      "emergency, outpatient (map the site's values in export.values.encounter_class)",
                      ("encounters", "unknown encounter_class")),
    "discharge_before_admit": (cell("encounters", 1, "discharge_time", "2022-01-09 09:00"), None, [], 1,
                               "encounters.csv, row 2: discharge_time is before admit_time",
                               ("encounters", "discharge_time before admit_time")),
    "determination_before_submit": (cell("claims", 0, "determination_date", "2021-03-01"), None, [], 1,
                                    "claims.csv, row 1: determination_date is before submitted_date",
                                    ("claims", "determination_date before submitted_date")),
    "duplicate_patient": (append("patients", ["P1", "1950-02-03", "female", "", "", ""]), None, [], 1,
                          "patients.csv, row 4: patient_id repeats row 1", ("patients", "duplicate patient_id")),
    "duplicate_claim": (append("claims", ["C1", "E2", "medicaid", "paid", "2022-01-20", "2022-02-01"]), None, [], 1,
                        "claims.csv, row 3: claim_id repeats row 1", ("claims", "duplicate claim_id")),
    "orphan_encounter_patient": (cell("encounters", 2, "patient_id", "P9"), None, [], 1,
                                 "encounters.csv, row 3, column patient_id: no such id in patients",
                                 ("encounters", "orphan patient_id")),
    "orphan_claim": (cell("claims", 1, "encounter_id", "E9"), None, [], 1,
                     "claims.csv, row 2, column encounter_id: no such id in encounters",
                     ("claims", "orphan encounter_id")),
    "orphan_diagnosis": (cell("diagnoses", 2, "encounter_id", "E7"), None, [], 1,
                         "diagnoses.csv, row 3, column encounter_id: no such id in encounters",
                         ("diagnoses", "orphan encounter_id")),
    "child_of_rejected": (cell("encounters", 1, "admit_time", "later"), None, [], 1,
                          "notes.csv, row 3, column encounter_id: its encounters row 2 was rejected",
                          ("notes", "encounter_id of a rejected encounters row")),
    "note_of_other_patient": (cell("notes", 2, "patient_id", "P1"), None, [], 1,
                              "notes.csv, row 3, column patient_id: differs from the patient of its encounter "
                              "(encounters row 2)", ("notes", "patient_id differs from its encounter's")),
    "position_zero": (cell("diagnoses", 1, "position", "0"), None, [], 1,
                      "diagnoses.csv, row 2, column position: 0 is below 1", ("diagnoses", "invalid position")),
    "position_word": (cell("diagnoses", 1, "position", "two"), None, [], 1,
                      "diagnoses.csv, row 2, column position: a value shaped 'aaa' is not an integer",
                      ("diagnoses", "unparsable position")),
    "position_fraction": (cell("diagnoses", 1, "position", "1.5"), None, [], 1,
                          "diagnoses.csv, row 2, column position: a value shaped '9.9' is not an integer",
                          ("diagnoses", "unparsable position")),
    "nul_in_text": (cell("notes", 1, "text", "stable\x00home"), None, [], 1,
                    "notes.csv, row 2, column text: holds a NUL byte (0x00)", ("notes", "NUL byte in text")),
    "unparsable_determination": (cell("claims", 0, "determination_date", "pending"), None, [], 1,
                                 "claims.csv, row 1, column determination_date: a value shaped 'aaaaaaa' is not",
                                 ("claims", "unparsable determination_date")),
    "non_utf8_bytes": (None, rewrite("notes", lambda b: b.replace(b"stable", b"stabl\xe9")), [], 1,
                       "notes.csv: 1 byte(s) that are not UTF-8 (rows holding them are rejected); a file written "
                       "on Windows or by Excel is often cp1252 — set export.encoding", ("notes", "non-UTF-8 bytes")),
    "broken_quote": (None, rewrite("notes", lambda b: b.replace(b'"Discharged', b'"Discharged "x', 1)), [], 1,
                     "notes.csv, row 2, line", ("notes", "malformed CSV")),
    "extra_field": (None, rewrite("claims", lambda b: b.replace(b"2021-04-01", b"2021-04-01,extra")), [], 1,
                    "7 fields, header has 6", ("claims", "malformed CSV")),
    "float_parquet_position": (None, to_parquet("diagnoses", position=lambda c: c.cast(pl.Float64)), [], 1,
                               "diagnoses.parquet: column position is Float64 in parquet, so values read like "
                               "'123.0'; export it as an integer or string", ("diagnoses", "unparsable position")),
    "epoch_parquet_time": (None, to_parquet("encounters", admit_time=lambda c: c.str.to_datetime().dt.epoch("s")),
                           [], 1, "encounters.parquet: column admit_time is Int64 in parquet (epoch numbers?)",
                           ("encounters", "unparsable admit_time")),
    # --- unusable input (exit 2): nothing is written --------------------------------------------
    "missing_table": (None, lambda f: (f / "claims.csv").unlink(), [], 2, "claims: no claims.csv", None),
    "missing_column": (None, header("notes", lambda h: [c for c in h if c != "note_time"] + ["x"]), [], 2,
                       "notes.csv: missing column 'note_time'", None),
    "misnamed_column": (None, header("encounters", lambda h: ["Admit_Time" if c == "admit_time" else c for c in h]),
                        [], 2, "encounters.csv: missing column 'admit_time'; found 'Admit_Time' — rename it or map "
                        "it in export.columns.encounters", None),
    "duplicate_header": (None, header("patients", lambda h: h[:-1] + ["sex"]), [], 2,
                         "patients.csv: duplicate column name(s) ['sex']", None),
    "header_only_patients": (empty("patients"), None, [], 2,
                             "patients.csv: a header but no rows; the export's query for patients returned nothing",
                             None),
    "header_only_notes": (empty("notes"), None, [], 2, "notes.csv: a header but no rows", None),
    "empty_file": (None, write_bytes("encounters.csv", b""), [], 2, "encounters.csv: empty file (no header)", None),
    "semicolons": (None, rewrite("patients", lambda b: b.replace(b",", b";")), [], 2,
                   "patients.csv: the header is one column holding ';'; the file seems ';'-delimited — set "
                   "export.delimiter", None),
    "tabs": (None, rewrite("claims", lambda b: b.replace(b",", b"\t")), [], 2,
             "the file seems a tab-delimited", None),
    "parquet_list_column": (None, to_parquet("diagnoses", icd10_code=lambda c: pl.concat_list(c, c)), [], 2,
                            "diagnoses.parquet: column(s) ['icd10_code'] hold lists or structs", None),
    "corrupt_parquet": (None, write_bytes("claims.parquet", b"PAR1 this is not parquet at all", "claims.csv"), [], 2,
                        "claims.parquet: not a readable parquet file", None),
    "truncated_gzip": (None, gzip_truncated("notes"), [], 2, "notes.csv.gz: the gzip file is truncated or corrupt",
                       None),
    "two_formats": (None, lambda f: (f / "claims.csv.gz").write_bytes(gzip.compress((f / "claims.csv").read_bytes())),
                    [], 2, "claims: several files in", None),
    "bad_time_zone": (None, None, ["--time-zone", "Mars/Olympus"], 2, "export.time_zone: 'Mars/Olympus'", None),
    "bad_encoding": (None, None, ["--encoding", "klingon"], 2, "export.encoding: 'klingon' is not a known", None),
    "reject_rate_nan": (None, None, ["--max-reject-rate", "nan"], 2, "'nan' is not a finite number", None),
    "reject_rate_above_one": (None, None, ["--max-reject-rate", "1.5"], 2, "1.5 must be <= 1.0", None),
    "negative_examples": (None, None, ["--examples", "-1"], 2, "-1 must be >= 0", None),
    # --- accepted once read right (exit 0) -----------------------------------------------------
    "utc_z": (column("encounters", "admit_time", lambda v: v[:10] + "T" + v[11:16] + ":00Z"), None, [], 0, "", None),
    "offset": (column("notes", "note_time", lambda v: v + "+01:00"), None, [], 0, "", None),
    "tz_aware_parquet": (None, to_parquet("notes", note_time=lambda c: c.str.to_datetime().dt.replace_time_zone("UTC")),
                         ["--time-zone", "America/New_York"], 0, "", None),
    "cp1252_configured": (None, rewrite("notes", lambda b: b.replace(b"stable", b"stabl\xe9")),
                          ["--encoding", "cp1252"], 0, "", None),
    "semicolons_configured": (None, semicolons_everywhere, ["--delimiter", ";"], 0, "", None),
    "us_dates_configured": (column("patients", "birth_date", us_date), None, ["--date-format", "%m/%d/%Y"], 0, "",
                            None),
}


def run_case(tmp_path, capsys, case):
    edit_rows, edit_files, args, *_ = CASES[case]
    rows = valid_rows()
    if edit_rows:
        edit_rows(rows)
    src = make_export(tmp_path / "export", rows)
    if edit_files:
        edit_files(src)
    out = tmp_path / "out"
    try:
        code = cli.main(["validate-export", str(src), "--out", str(out), "--skip-readiness", "--quiet", *args])
    except SystemExit as e:  # argparse refuses a bad option before anything runs
        code = e.code
    cap = capsys.readouterr()
    return code, cap.out + cap.err, out


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(tmp_path, capsys, case):
    *_, want_code, message, reason = CASES[case]
    code, text, out = run_case(tmp_path, capsys, case)
    assert code == want_code, text
    assert message in text, text
    assert "Traceback" not in text
    assert not (out / ".staging").exists()
    if want_code == 2:
        assert not list(out.glob("*.parquet")) and not (out / "report.json").exists()
        return
    report = json.loads((out / "report.json").read_text())
    for name, t in report["tables"].items():
        assert t["read"] == t["kept"] + t["rejected"], name
        assert pl.read_parquet(out / f"{name}.parquet").height == t["kept"]
        assert pl.read_parquet(out / "rejected" / f"{name}.parquet").height == t["rejected"]
    if reason:
        table, why = reason
        assert report["tables"][table]["reasons"].get(why, 0) >= 1, report["tables"][table]["reasons"]
    else:
        assert all(t["rejected"] == 0 for t in report["tables"].values()), report["tables"]


def test_times_with_offsets_become_local_times_of_the_configured_zone(tmp_path, capsys):
    for case, table, col in (("utc_z", "encounters", "admit_time"), ("offset", "notes", "note_time"),
                             ("tz_aware_parquet", "notes", "note_time")):
        code, _, out = run_case(tmp_path / case, capsys, case)
        first = pl.read_parquet(out / f"{table}.parquet")[col][0]
        want = {"utc_z": "2021-03-01 08:15:00",  # UTC stays UTC by default
                "offset": "2021-03-01 08:00:00",  # 09:00+01:00
                "tz_aware_parquet": "2021-03-01 04:00:00"}[case]  # 09:00 UTC in New York (EST)
        assert str(first) == want, case


def test_cp1252_text_is_decoded_not_rejected(tmp_path, capsys):
    _, _, out = run_case(tmp_path, capsys, "cp1252_configured")
    assert "stablé" in pl.read_parquet(out / "notes.parquet")["text"][1]


def test_internal_error_exits_3_without_traceback_or_data(tmp_path, capsys, monkeypatch):
    import lang1core.export as export

    def boom(*a, **k):
        raise RuntimeError("row P1 text: marker-SECRET")

    monkeypatch.setattr(export, "validate_export", boom)
    src = make_export(tmp_path / "export")
    assert cli.main(["validate-export", str(src), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError" in err and "marker-SECRET" not in err and "Traceback" not in err
