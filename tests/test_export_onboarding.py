"""A site's first export: its own names mapped by config, and the readiness report that says
per task what the export would give before anything is trained."""

from __future__ import annotations

import json

import polars as pl
import pytest
import yaml
from export_helpers import HEADERS, make_export, valid_rows

from lang1core import cli
from lang1core.export import validate_export
from lang1core.export.mapping import ExportMapping, MappingError
from lang1core.remede.config import BuildConfig

SITE_TYPES = {"history_and_physical": "History and Physical", "History_and_Physical": "History and Physical",
              "discharge_summary": "Discharge Summary", "radiology": "Radiology Report"}


def site_rows():
    rows = valid_rows()
    rows["notes"] = [r[:3] + [SITE_TYPES[r[3]]] + r[4:] for r in rows["notes"]]
    return rows


def config(tmp_path, export: dict, **top) -> str:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"export": export, **top}))
    return str(path)


def test_unmapped_note_types_exit_2_naming_task_and_types(tmp_path, capsys):
    src = make_export(tmp_path / "export", site_rows())
    assert cli.main(["validate-export", str(src), "--quiet"]) == 2
    out = capsys.readouterr().out
    assert "ERROR: task mortality: no examples — none of its note types ['history_and_physical'] is in " \
           "notes.note_type (found: 'history and physical' (2)" in out
    assert "ERROR: task readmission: no examples" in out and "export.note_types" in out


def test_note_type_mapping_from_config_makes_the_export_ready(tmp_path, capsys):
    src = make_export(tmp_path / "export", site_rows())
    cfg = config(tmp_path, {"note_types": {"History and Physical": "history_and_physical",
                                           "Discharge Summary": "discharge_summary"}})
    out_dir = tmp_path / "validated"
    assert cli.main(["validate-export", str(src), "--config", cfg, "--out", str(out_dir), "--quiet"]) == 0
    notes = pl.read_parquet(out_dir / "notes.parquet")
    assert sorted(notes["note_type"].unique()) == ["discharge_summary", "history_and_physical", "radiology report"]
    ready = json.loads((out_dir / "report.json").read_text())["readiness"]
    assert ready["errors"] == [] and ready["tasks"]["mortality"]["eligible"] == 1
    assert ready["tasks"]["mortality"]["note_types_needed"] == {"history_and_physical": 2}
    assert "readiness per task" in capsys.readouterr().out


def test_column_names_mapped_per_table(tmp_path):
    headers = {"patients": ["MRN" if h == "patient_id" else h for h in HEADERS["patients"]]}
    src = make_export(tmp_path / "export", headers=headers)
    mapping = ExportMapping.from_dict({"columns": {"patients": {"MRN": "patient_id"}}})
    report = validate_export(src, tmp_path / "validated", mapping=mapping)
    assert report["tables"]["patients"]["kept"] == 3
    assert pl.read_parquet(tmp_path / "validated" / "patients.parquet").columns[0] == "patient_id"


@pytest.mark.parametrize("export, message", [
    ({"columns": {"patient": {"MRN": "patient_id"}}}, "export.columns: unknown table 'patient'"),
    ({"columns": {"patients": {"MRN": "mrn"}}}, "export.columns.patients: 'MRN' maps to 'mrn'"),
    ({"values": {"text": {"a": "b"}}}, "export.values: 'text' is not a categorical contract column"),
    ({"time_zone": "Mars/Olympus"}, "export.time_zone: 'Mars/Olympus' is not an IANA time zone"),
    ({"encoding": "klingon"}, "export.encoding: 'klingon' is not a known encoding"),
    ({"delimiter": ";;"}, "export.delimiter: ';;' must be one character"),
    ({"date_format": "MM/DD/YYYY"}, "export.date_format: 'MM/DD/YYYY' is not a strptime format"),
])
def test_bad_mapping_is_named(tmp_path, capsys, export, message):
    with pytest.raises(MappingError, match=message.replace("(", r"\(").replace(".", r"\.")):
        ExportMapping.from_dict(export)
    src = make_export(tmp_path / "export")
    assert cli.main(["validate-export", str(src), "--config", config(tmp_path, export), "--quiet"]) == 2
    assert message in capsys.readouterr().err


def test_readiness_names_sites_and_a_missing_held_out_site(tmp_path, capsys):
    src = make_export(tmp_path / "export")
    assert cli.main(["validate-export", str(src), "--held-out-site", "site_z", "--quiet"]) == 2
    out = capsys.readouterr().out
    assert "ERROR: held_out_site 'site_z' is not a site of the export (sites: 'site_a', 'site_b')" in out
    assert "sites: site_a (2), site_b (1); held_out_site: 'site_z' (NOT FOUND)" in out


def test_readiness_says_why_a_label_cannot_be_derived(tmp_path):
    rows = valid_rows()
    rows["encounters"] = [r[:8] + [""] + r[9:] for r in rows["encounters"]]  # no dispositions
    src = make_export(tmp_path / "export", rows)
    report = validate_export(src, tmp_path / "validated", tasks=BuildConfig.from_dict({"tasks": ["mortality"]}))
    r = report["readiness"]
    assert r["tasks"]["mortality"]["labels"] == ("not derivable: encounters.discharge_disposition is empty for "
                                                 "every stay of the configured classes")
    assert r["errors"] == ["task mortality: no examples — encounters.discharge_disposition is empty for every "
                           "stay of the configured classes"]


def test_empty_claims_is_fine_when_no_task_needs_it(tmp_path, capsys):
    rows = {**valid_rows(), "claims": []}
    src = make_export(tmp_path / "export", rows)
    assert cli.main(["validate-export", str(src), "--quiet"]) == 2
    assert "ERROR: task denial: no examples — the claims table has no rows" in capsys.readouterr().out
    tasks = ["readmission", "mortality", "los", "cci"]
    assert cli.main(["validate-export", str(src), "--tasks", *tasks, "--quiet"]) == 0


def test_readiness_warns_about_a_single_class_train_split(tmp_path, capsys):
    src = make_export(tmp_path / "export")  # nobody in the tiny export dies
    assert cli.main(["validate-export", str(src), "--tasks", "mortality", "--quiet"]) == 0
    assert "WARNING: task mortality: the train split holds one class only {'no': 1, 'yes': 0}" in \
        capsys.readouterr().out


def test_readme_worked_example_is_a_valid_mapping():
    import re
    from pathlib import Path

    import jsonschema

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    block = re.search(r"```yaml\n(# site\.yaml\n.*?)```", readme, re.S).group(1)
    conf = yaml.safe_load(block)
    schema = yaml.safe_load((root / "workflow" / "schemas" / "export.schema.yaml").read_text())
    jsonschema.validate(conf["export"], schema)
    m = ExportMapping.from_dict(conf["export"])
    assert m.encoding == "cp1252" and m.delimiter == ";" and m.values["note_type"] == {
        "history and physical": "history_and_physical", "discharge summary": "discharge_summary"}


def test_readme_worked_example_reads_a_site_style_export(tmp_path, capsys):
    """The README's site: cp1252, ';', MRN, US dates, its own note type names, "Died", UTC times."""
    import csv
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    conf = yaml.safe_load(re.search(r"```yaml\n(# site\.yaml\n.*?)```", readme, re.S).group(1))
    rows, headers = valid_rows(), {t: list(h) for t, h in HEADERS.items()}
    us_date = lambda v: f"{v[5:7]}/{v[8:10]}/{v[:4]}" if v else v
    us_time = lambda v: f"{us_date(v[:10])} {v[11:16]}" if v else v
    utc = lambda v: f"{v[:10]}T{v[11:16]}:00Z" if v else v
    for r in rows["patients"]:
        r[1] = us_date(r[1])
    for r in rows["encounters"]:
        r[6], r[7] = utc(r[6]), utc(r[7])
    rows["encounters"][0][8] = "Died"
    for r in rows["notes"]:
        r[3] = {"history_and_physical": "History and Physical", "discharge_summary": "Discharge Summary"}.get(
            r[3].lower(), r[3])
        r[4] = us_time(r[4])
    rows["notes"][1][5] = "Discharged home, stable. Café con leche spots noted."
    for r in rows["claims"]:
        r[4], r[5] = us_date(r[4]), us_date(r[5])
    headers["patients"][0] = "MRN"
    headers["notes"][1], headers["notes"][3] = "MRN", "Note Type"
    src = tmp_path / "lang1_export"
    src.mkdir()
    for t in HEADERS:
        with open(src / f"{t}.csv", "w", newline="", encoding="cp1252") as f:
            w = csv.writer(f, delimiter=";")
            w.writerow(headers[t])
            w.writerows(rows[t])
    conf["export"]["dir"] = str(src)
    conf["held_out_site"] = "site_b"
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(conf))
    out = tmp_path / "validated"
    assert cli.main(["validate-export", str(src), "--config", str(path), "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert all(t["rejected"] == 0 for t in report["tables"].values())
    enc = pl.read_parquet(out / "encounters.parquet")
    assert str(enc["admit_time"][0]) == "2021-03-01 03:15:00"  # 08:15 UTC in New York
    assert enc["discharge_disposition"][0] == "expired"
    assert "Café" in pl.read_parquet(out / "notes.parquet")["text"][1]
    ready = report["readiness"]
    assert ready["tasks"]["mortality"]["train_classes"] == {"no": 0, "yes": 1}
