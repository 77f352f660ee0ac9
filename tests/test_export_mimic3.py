"""The MIMIC-III adapter on a small fixture in the published column layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from lang1core.export import CONTRACT, ExportSchemaError, validate_export
from lang1core.export.mimic3 import convert_mimic3

FIXTURE = Path(__file__).parent / "fixtures" / "mimic3"


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("mimic3")
    report = convert_mimic3(FIXTURE, out / "export")
    return report, out


def table(converted, name) -> pl.DataFrame:
    return pl.read_parquet(converted[1] / "export" / f"{name}.parquet")


def test_iserror_notes_are_dropped_and_counted(converted):
    report, _ = converted
    notes = table(converted, "notes")
    assert report["iserror_notes_dropped"] == 1
    assert "1004" not in notes["note_id"].to_list()
    assert report["sources"]["NOTEEVENTS"]["read"] == notes.height + 1


def test_contract_columns_for_every_table(converted):
    for name, columns in CONTRACT.items():
        df = table(converted, name)
        expected = [c for c in columns if c != "part"]
        assert df.columns == expected, name


def test_note_types_and_times(converted):
    notes = table(converted, "notes")
    types = dict(zip(notes["note_id"], notes["note_type"]))
    assert types == {"1001": "discharge_summary", "1002": "history_and_physical", "1003": "progress",
                     "1005": "nursing", "1006": "radiology", "1007": "echo",
                     "1008": "history_and_physical"}
    times = dict(zip(notes["note_id"], notes["note_time"]))
    assert times["1001"] == "2149-12-31"  # discharge summaries have only CHARTDATE
    assert times["1002"] == "2149-12-17 22:10:00"
    assert notes.filter(pl.col("note_id") == "1007")["encounter_id"][0] is None
    assert '"worsening" dyspnea' in notes.filter(pl.col("note_id") == "1001")["text"][0]


def test_encounters_dispositions_and_patients(converted):
    enc = table(converted, "encounters")
    disp = dict(zip(enc["encounter_id"], enc["discharge_disposition"]))
    assert disp == {"116935": "home_health", "158975": "snf", "124271": "expired", "117937": "home"}
    assert set(enc["encounter_class"]) == {"inpatient"}
    pats = table(converted, "patients")
    assert pats["sex"].to_list() == ["female", "male", "male"]
    assert pats["race"].to_list() == ["white", None, None]
    assert pats["ethnicity"].to_list() == ["not hispanic", "hispanic", None]


def test_diagnoses_keep_icd9_and_claims_are_empty(converted):
    dx = table(converted, "diagnoses")
    assert set(dx["icd_version"]) == {"icd9"}
    assert dx["icd10_code"].to_list()[:3] == ["4280", "25000", "V4581"]
    assert table(converted, "claims").height == 0


def test_adapter_output_validates(converted):
    _, out = converted
    report = validate_export(out / "export", out / "validated")
    t = report["tables"]
    assert {k: t[k]["kept"] for k in t} == {"patients": 3, "encounters": 4, "notes": 7,
                                           "diagnoses": 7, "claims": 0}
    # MIMIC's diagnoses rows without a code are rejected and counted, not dropped silently.
    assert t["diagnoses"]["reasons"] == {"missing icd10_code": 1}
    dx = pl.read_parquet(out / "validated" / "diagnoses.parquet")
    assert dx.schema["position"] == pl.Int64 and set(dx["icd_version"]) == {"icd9"}
    enc = pl.read_parquet(out / "validated" / "encounters.parquet")
    assert enc.schema["admit_time"] == pl.Datetime("us")
    assert str(pl.read_parquet(out / "validated" / "patients.parquet")["birth_date"][0]) == "2075-03-13"


def test_demo_layout_lowercase_names(tmp_path):
    # The MIMIC-III demo ships lower-case file and column names.
    src = tmp_path / "demo"
    src.mkdir()
    for f in FIXTURE.iterdir():
        if f.suffix == ".csv":
            lines = f.read_text().split("\n", 1)
            (src / f.name.lower()).write_text(lines[0].lower() + "\n" + lines[1])
        else:
            shutil.copy(f, src / f.name.lower())
    report = convert_mimic3(src, tmp_path / "out")
    assert report["written"]["notes"] == 7


def test_missing_mimic_file_or_column_is_named(tmp_path):
    src = tmp_path / "m"
    shutil.copytree(FIXTURE, src)
    (src / "PATIENTS.csv").unlink()
    with pytest.raises(ExportSchemaError, match="no PATIENTS.csv"):
        convert_mimic3(src, tmp_path / "out")
    shutil.copy(FIXTURE / "PATIENTS.csv", src / "PATIENTS.csv")
    text = (src / "ADMISSIONS.csv").read_text().replace('"DISCHTIME"', '"DISCH_TIME"')
    (src / "ADMISSIONS.csv").write_text(text)
    with pytest.raises(ExportSchemaError, match=r"ADMISSIONS.csv: missing MIMIC-III column\(s\) \['DISCHTIME'\]"):
        convert_mimic3(src, tmp_path / "out")


def test_blank_discharge_location_is_alive_only_when_the_expire_flag_says_so():
    from lang1core.export.mimic3 import disposition

    df = pl.DataFrame({"loc": ["HOME", "", None, "", "SNF"], "flag": ["0", "0", "0", None, "1"],
                       "death": [None, None, None, None, None]},
                      schema={c: pl.String for c in ("loc", "flag", "death")})
    got = df.select(disposition(pl.col("loc"), pl.col("flag"), pl.col("death")).alias("d"))["d"].to_list()
    assert got == ["home", "discharged alive", "discharged alive", None, "expired"]
