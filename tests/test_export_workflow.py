"""The export rules run by Snakemake on the MIMIC-III fixture and on a site-style export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from export_helpers import HEADERS, make_export
from workflow_run import TEST_CONFIG, copy_workflow, results_root, snakemake

FIXTURE = Path(__file__).parent / "fixtures" / "mimic3"
REPORT = "results-test/validated/report.json"

pytestmark = pytest.mark.slow


def test_mimic3_source_runs_adapter_then_validation(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    (wd / "mimic3-fixture.yaml").write_text(
        f"source: mimic3\nmimic3:\n  dir: {FIXTURE}\nexport:\n  max_reject_rate: 0.2\n")
    # An overlay file: --config would pass the nested number as a string.
    run = snakemake(wd, REPORT, "--cores", "1", *TEST_CONFIG, "mimic3-fixture.yaml")
    assert run.returncode == 0, run.stderr[-4000:]
    root = results_root(wd)
    report = json.loads((root / "validated" / "report.json").read_text())
    assert report["tables"]["notes"]["kept"] == 7 and report["ok"]
    assert "config_hash" in report["provenance"]
    adapter = json.loads((root / "mimic3_export" / "adapter_report.json").read_text())
    assert adapter["iserror_notes_dropped"] == 1
    for t in ("patients", "encounters", "notes", "diagnoses", "claims"):
        assert (root / "validated" / f"{t}.parquet").exists()
        assert (root / "validated" / "rejected" / f"{t}.parquet").exists()

    # The default 5% limit fails the run on the fixture's one code-less diagnosis (1 of 8).
    (root / "validated" / "report.json").unlink()
    run = snakemake(wd, REPORT, "--cores", "1", *TEST_CONFIG, "--config", "source=mimic3",
                    f"mimic3={{'dir': '{FIXTURE}'}}")
    assert run.returncode != 0
    log = (root / "logs" / "export" / "validate_export.log").read_text()
    assert "FAILED: diagnoses: 1 of 8 rows rejected" in log


def test_site_export_with_missing_column_fails_naming_it(tmp_path):
    headers = {"notes": [h if h != "note_time" else "notetime" for h in HEADERS["notes"]]}
    src = make_export(tmp_path / "site", headers=headers)
    wd = copy_workflow(tmp_path / "wf")
    run = snakemake(wd, REPORT, "--cores", "1", *TEST_CONFIG, "--config", "source=export",
                    f"export={{'dir': '{src}'}}")
    assert run.returncode != 0
    log = (results_root(wd) / "logs" / "export" / "validate_export.log").read_text()
    assert "notes.csv: missing column 'note_time'; found 'notetime'" in log


def test_export_source_without_dir_is_named(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    run = snakemake(wd, "-n", REPORT, "--cores", "1", *TEST_CONFIG, "--config", "source=export")
    assert run.returncode != 0
    assert "export.dir" in run.stdout + run.stderr


def test_site_export_that_leaves_a_task_empty_fails_naming_it(tmp_path):
    from export_helpers import valid_rows

    rows = valid_rows()
    rows["notes"] = [r[:3] + ["History and Physical" if "history" in r[3].lower() else r[3]] + r[4:]
                     for r in rows["notes"]]
    src = make_export(tmp_path / "site", rows)
    wd = copy_workflow(tmp_path / "wf")
    target = "results-test/validated/readiness.json"
    run = snakemake(wd, target, "--cores", "1", *TEST_CONFIG, "--config", "source=export",
                    f"export={{'dir': '{src}'}}")
    assert run.returncode != 0
    log = (results_root(wd) / "logs" / "export" / "readiness.log").read_text()
    assert "readiness: task mortality: no examples — none of its note types ['history_and_physical']" in log
    assert (results_root(wd) / "logs" / "export" / "validate_report.json").is_file()
