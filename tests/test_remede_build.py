"""ReMedE task building on hand-made encounters: every label rule, exclusions, split
boundaries, seen_patient, the leakage check, note selection, and the manifest's accounting.

Each test writes a tiny export (docs/architecture.md#export-tables), validates it with the
export stage's own validator, and builds the tasks through the same function the workflow
calls."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from export_helpers import HEADERS, make_export
from lang1core.export import validate_export
from lang1core.remede.build import build_remede
from lang1core.remede.config import BuildConfig
from lang1core.remede.leakage import LeakageError
from lang1core.remede.tables import write_tables
from lang1core.remede.tasks import SPLITS

HP = "history_and_physical"
DS = "discharge_summary"
HP_TEXT = "HPI: 70-year-old woman with CHF. Admit to Medicine. Plan: diuresis."
DS_TEXT = "Hospital course: treated for CHF. Disposition: home."


def enc(eid, pid, admit, discharge, dept="medicine", disp="home", site="site_a", cls="inpatient"):
    return [eid, pid, site, dept, cls, "emergency", admit, discharge, disp, "medicare"]


def notes_for(eid, pid, admit_day, discharge_day, hp_text=HP_TEXT, ds_text=DS_TEXT):
    return [[f"N{eid}h", pid, eid, HP, f"{admit_day}T10:00:00", hp_text],
            [f"N{eid}d", pid, eid, DS, f"{discharge_day}T09:00:00", ds_text]]


def base_rows():
    """Patients and stays (all in the training window unless said otherwise):
    P1: E1 discharged 2015-01-10, readmitted E2 29 days later (2015-02-08);
        E2 discharged 2015-02-12, next stay E3 31 days later (2015-03-15);
    P2: E4 in rehabilitation (excluded from readmission), then E5 (dies) 2016-04-02;
    P3: E6 temporal window boundary stays; E7 held-out site;
    P4: E8 without codes, claim denied then approved on appeal; E9 claim paid;
    P5: E10 in 2024 (temporal_2024); also a stay in 2012 (outside every window).
    """
    e = [
        enc("E1", "P1", "2015-01-05T08:00:00", "2015-01-10T12:00:00"),
        enc("E2", "P1", "2015-02-08T08:00:00", "2015-02-12T12:00:00"),
        enc("E3", "P1", "2015-03-15T08:00:00", "2015-03-18T12:00:00"),
        enc("E4", "P2", "2016-02-01T08:00:00", "2016-02-20T12:00:00", dept="rehabilitation"),
        enc("E5", "P2", "2016-03-01T08:00:00", "2016-04-02T12:00:00", disp="expired"),
        enc("E6", "P3", "2021-05-31T08:00:00", "2021-06-03T12:00:00"),
        enc("E6b", "P3", "2021-06-01T08:00:00", "2021-06-01T20:00:00", cls="inpatient"),
        enc("E7", "P3", "2019-05-01T08:00:00", "2019-05-03T12:00:00", site="site_d"),
        enc("E8", "P4", "2021-07-01T08:00:00", "2021-07-05T12:00:00"),
        enc("E9", "P4", "2021-09-01T08:00:00", "2021-09-02T12:00:00"),
        enc("E10", "P5", "2024-03-01T08:00:00", "2024-03-08T12:00:00"),
        enc("E11", "P5", "2012-03-01T08:00:00", "2012-03-08T12:00:00"),
        enc("E12", "P5", "2024-09-01T08:00:00", "2024-09-01T12:00:00", cls="emergency", dept="emergency"),
    ]
    n = []
    for r in e:
        if r[4] == "inpatient":
            n += notes_for(r[0], r[1], r[6][:10], r[7][:10])
    # The E6b stay's H&P was written after midnight on the temporal boundary's far side.
    pats = [["P1", "1950-01-01", "female", "white", "not hispanic or latino", "north"],
            ["P2", "1940-06-15", "male", "black", "not hispanic or latino", "south"],
            ["P3", "2010-01-01", "female", "asian", "hispanic or latino", "east"],
            ["P4", "1980-01-01", "male", "white", "unknown", "west"],
            ["P5", "1960-01-01", "female", "white", "not hispanic or latino", "north"]]
    dx = [[r[0], "I50.9", "1"] for r in e if r[0] not in ("E8", "E12")]
    dx += [["E5", "C78.0", "2"], ["E5", "E11.9", "3"]]
    claims = [["C8", "E8", "medicare", "final, favorable determination", "2021-07-10", "2021-12-01"],
              ["C9", "E9", "medicare", "paid", "2021-09-10", "2021-10-01"]]
    return {"patients": pats, "encounters": e, "notes": n, "diagnoses": dx, "claims": claims}


def wide_windows(**over) -> dict:
    """Config putting denial on the default windows so the hand-made claims land in splits."""
    d = {"task_windows": {}}
    d.update(over)
    return d


def build(tmp_path: Path, rows=None, cfg: dict | None = None, held_out="site_d", seed=3407):
    export = make_export(tmp_path / "export", rows or base_rows())
    report = validate_export(export, tmp_path / "validated")
    assert report["ok"], report["failures"]
    config = BuildConfig.from_dict(wide_windows(**(cfg or {})), seed=seed, held_out_site=held_out)
    manifest = build_remede(tmp_path / "validated", tmp_path / "remede", config)
    return manifest, tmp_path / "remede"


def all_examples(root: Path, task: str) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(root / task / f"{s}.parquet").with_columns(split=pl.lit(s)) for s in SPLITS])


def labels(root, task) -> dict[str, int]:
    df = all_examples(root, task)
    return dict(zip(df["encounter_id"], df["label"]))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(tmp_path_factory.mktemp("remede"))


def test_readmission_29_days_is_positive_31_is_not(built):
    _, root = built
    lab = labels(root, "readmission")
    assert lab["E1"] == 1  # next admission 29 days after discharge
    assert lab["E2"] == 0  # next admission 31 days after discharge


def test_excluded_department_is_dropped_and_counted(built):
    manifest, root = built
    assert "E4" not in labels(root, "readmission")
    assert manifest["tasks"]["readmission"]["drops"]["excluded department: rehabilitation"] == 1
    assert "E4" in labels(root, "mortality")  # the exclusion is readmission's only


def test_patient_who_dies(built):
    _, root = built
    assert labels(root, "mortality")["E5"] == 1
    assert labels(root, "mortality")["E1"] == 0
    assert labels(root, "readmission")["E5"] == 0  # kept by default, cannot be readmitted


def test_readmission_can_exclude_stays_ending_in_death(tmp_path):
    manifest, root = build(tmp_path, cfg={"readmission": {"exclude_expired": True}})
    assert "E5" not in labels(root, "readmission")
    assert manifest["tasks"]["readmission"]["drops"]["index stay ended in death"] == 1


def test_claim_denied_then_approved_on_appeal_counts_as_denied(built):
    _, root = built
    lab = labels(root, "denial")
    assert lab == {"E8": 1, "E9": 0}  # stays without a claim are not examples


def test_encounter_without_codes_is_excluded_from_cci(built):
    manifest, root = built
    lab = labels(root, "cci")
    assert "E8" not in lab and "E8" in labels(root, "mortality")
    assert manifest["tasks"]["cci"]["drops"]["no ICD codes for the encounter"] == 1
    # E5: CHF (1) + metastatic tumour (6) + diabetes (1) = 8 -> bin ">7"
    assert lab["E5"] == 4 and lab["E1"] == 1
    assert manifest["tasks"]["cci"]["cci_method"]["age_points"] is False


def test_split_boundaries_and_external_site(built):
    _, root = built
    df = all_examples(root, "mortality")
    split = dict(zip(df["encounter_id"], df["split"]))
    assert split["E6"] in ("train", "val", "test")  # H&P on 2021-05-31, last day of training
    assert split["E6b"] == "temporal"  # H&P on 2021-06-01
    assert split["E7"] == "external"  # held-out site, whatever the date
    assert split["E10"] == "temporal_2024"
    assert "E11" not in split  # 2012: no window


def test_every_stay_is_an_example_or_a_counted_drop(built):
    manifest, _ = built
    for task, info in manifest["tasks"].items():
        assert info["examples"] + sum(info["drops"].values()) == info["encounters"] == 13, task
    assert manifest["tasks"]["mortality"]["drops"]["note date outside every split window"] == 1


def test_patient_split_keeps_a_patient_in_one_random_split(tmp_path):
    _, root = build(tmp_path)
    df = all_examples(root, "mortality").filter(pl.col("split").is_in(["train", "val", "test"]))
    assert df.group_by("patient_id").agg(pl.col("split").n_unique())["split"].max() == 1


def test_seen_patient_marks_patients_with_train_examples(built):
    _, root = built
    df = all_examples(root, "mortality")
    train_patients = set(df.filter(pl.col("split") == "train")["patient_id"])
    for row in df.iter_rows(named=True):
        assert row["seen_patient"] == (row["patient_id"] in train_patients), row["example_id"]


def test_splits_are_deterministic_and_seeded(tmp_path):
    a = all_examples(build(tmp_path / "a")[1], "mortality")
    b = all_examples(build(tmp_path / "b")[1], "mortality")
    assert a.equals(b)
    # With many patients, a different seed moves some of them between train/val/test.
    from lang1core.remede.splits import unit_hash
    ids = [f"P{i}" for i in range(2000)]
    assert (unit_hash(ids, 1) != unit_hash(ids, 2)).any()
    u = unit_hash(ids, 3407)
    assert 0.75 < (u < 0.8).mean() < 0.85  # 8:1:1 in expectation


def test_demographic_columns(built):
    _, root = built
    df = all_examples(root, "mortality")
    row = df.filter(pl.col("encounter_id") == "E6").row(0, named=True)
    assert row["age"] == 11 and row["child"] is True and row["age_band"] == "0-17"
    demographics = (row["sex"], row["race"], row["ethnicity"], row["region"])
    assert demographics == ("female", "asian", "hispanic or latino", "east")


def test_prompt_columns_follow_the_task(built):
    manifest, root = built
    df = all_examples(root, "los")
    assert df["options"][0].to_list() == manifest["tasks"]["los"]["options"]
    assert manifest["tasks"]["los"]["los"]["edges_source"] == "train-split quartiles"


def test_los_edges_fixed_by_config(tmp_path):
    manifest, root = build(tmp_path, cfg={"los": {"edges": [2, 3, 5]}})
    assert manifest["tasks"]["los"]["options"] == ["0 to 2 days", "3 days", "4 to 5 days", "more than 5 days"]
    lab = labels(root, "los")
    assert lab["E1"] == 2  # 5 days 4 h -> 5 whole days -> "4 to 5 days"
    assert lab["E6b"] == 0  # same-day stay
    assert lab["E5"] == 3  # 32 days


def test_leakage_check_fails_above_rate_and_reports(tmp_path):
    rows = base_rows()
    rows["notes"] = [r if r[3] != HP or r[2] != "E5" else r[:5] + ["Patient pronounced at 14:02; time of death noted."]
                     for r in rows["notes"]]
    with pytest.raises(LeakageError, match="mortality"):
        build(tmp_path / "fail", rows=rows)
    manifest = json.loads((tmp_path / "fail" / "remede" / "manifest.json").read_text())
    rep = manifest["tasks"]["mortality"]["leakage"]
    assert rep["matched"] == 1 and rep["patterns"][r"time of death"]["matched_positive"] == 1
    # A tolerant rate lets the same data through.
    manifest, _ = build(tmp_path / "ok", rows=rows, cfg={"leakage": {"max_rate": 0.5}})
    assert manifest["leakage_ok"]


def test_note_parts_are_joined_and_priority_picks_the_admission_note(tmp_path):
    rows = base_rows()
    rows["notes"] = [r + ["1"] for r in rows["notes"]]
    rows["notes"].append(["NE1h", "P1", "E1", HP, "2015-01-05T10:00:00", "SECOND PART", "2"])
    headers = {**HEADERS, "notes": HEADERS["notes"] + ["part"]}
    export = make_export(tmp_path / "export", rows, headers)
    validate_export(export, tmp_path / "validated")
    cfg = BuildConfig.from_dict({"task_windows": {}, "note_types": {"mortality": ["progress", DS, HP]},
                                 "max_note_hours": {"mortality": 120}}, held_out_site="site_d")
    build_remede(tmp_path / "validated", tmp_path / "remede", cfg)
    los = all_examples(tmp_path / "remede", "los")
    assert los.filter(pl.col("encounter_id") == "E1")["text"][0] == HP_TEXT + "\n\nSECOND PART"
    mort = all_examples(tmp_path / "remede", "mortality")
    # The discharge summary ranks before the H&P here, but stays over 120 h write it too late.
    texts = dict(zip(mort["encounter_id"], mort["note_type"]))
    assert texts["E6b"] == DS  # 12 h stay
    assert texts["E1"] == HP  # 5-day stay: its discharge summary is 121+ h after admission


def test_tiny_and_single_class_splits_do_not_crash(tmp_path):
    manifest, root = build(tmp_path, held_out=None)
    assert all((root / t / f"{s}.parquet").is_file() for t in manifest["tasks"] for s in SPLITS)
    paths = write_tables(root, manifest, root / "stats")
    b4 = pl.read_csv(paths["B4_mortality"])
    assert set(b4["split"]) == set(SPLITS)
    ext = b4.filter(pl.col("split") == "external")
    assert ext["n"].sum() == 0 and ext["percent"].is_null().all()
    assert (root / "stats" / "B1_counts.md").read_text().startswith("# Table B1")


def test_probe_questions_are_answered_by_the_note(built):
    manifest, root = built
    for split in ("val", "test"):
        df = pl.read_parquet(root / "probe" / f"{split}.parquet")
        for row in df.iter_rows(named=True):
            assert len(row["options"]) == 4
            if row["probe"] == "department":
                assert row["options"][row["label"]] == row["department"].replace("_", " ")
                assert len(set(row["options"])) == 4
            else:
                band = row["options"][row["label"]]
                assert band == "65 years or older"  # every hand-made H&P says "70-year-old"


def test_cli_builds_tasks_tables_and_lm_eval_files(tmp_path):
    from lang1core.cli import main

    export = make_export(tmp_path / "export", base_rows())
    validate_export(export, tmp_path / "validated")
    assert main(["remede", str(tmp_path / "validated"), str(tmp_path / "out"), "--held-out-site", "site_d",
                 "--los-edges", "2", "3", "5"]) == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["tasks"]["los"]["los"]["edges"] == [2, 3, 5]
    assert (tmp_path / "out" / "stats" / "B7_denial.md").is_file()
    assert (tmp_path / "out" / "lm_eval" / "remede_denial_temporal_2024.yaml").is_file()


def test_config_section_matches_its_schema():
    import jsonschema
    import yaml

    repo = Path(__file__).resolve().parents[1]
    schema = yaml.safe_load((repo / "workflow" / "schemas" / "remede.schema.yaml").read_text())
    section = yaml.safe_load((repo / "config.yaml").read_text())["remede"]
    jsonschema.validate(section, schema)
    cfg = BuildConfig.from_dict(section)
    assert cfg == BuildConfig(max_note_hours={}, task_windows=cfg.task_windows)  # config.yaml = the defaults
    with pytest.raises(jsonschema.ValidationError, match="los_edge"):
        jsonschema.validate({**section, "los_edge": [2, 3, 5]}, schema)
    with pytest.raises(ValueError, match="split_by"):
        BuildConfig.from_dict({"split_by": "visit"})


def test_missing_disposition_or_pending_claim_is_dropped_not_labelled(tmp_path):
    rows = base_rows()
    # E1's disposition is empty: unknown, not "survived"; E9's claim awaits its determination.
    rows["encounters"] = [r[:8] + [""] + r[9:] if r[0] == "E1" else r for r in rows["encounters"]]
    rows["claims"] = [r[:3] + ["pending", r[4], ""] if r[0] == "C9" else r for r in rows["claims"]]
    manifest, root = build(tmp_path, rows=rows)
    mort = manifest["tasks"]["mortality"]
    assert "E1" not in labels(root, "mortality") and mort["drops"]["no discharge disposition"] == 1
    assert "E9" not in labels(root, "denial")
    assert manifest["tasks"]["denial"]["drops"]["claim still pending (no determination date)"] == 1
    assert labels(root, "denial")["E8"] == 1  # a denied claim is known whatever else is pending
    cfg = {"readmission": {"exclude_expired": True}}
    manifest, root = build(tmp_path / "excl", rows=rows, cfg=cfg)
    assert "E1" not in labels(root, "readmission")
    assert manifest["tasks"]["readmission"]["drops"]["no discharge disposition"] == 1


def test_single_class_train_split_warns_naming_the_task(tmp_path, caplog):
    rows = base_rows()
    rows["encounters"] = [r[:8] + ["home"] + r[9:] for r in rows["encounters"]]  # nobody dies
    manifest, _ = build(tmp_path, rows=rows)
    warned = [w for w in manifest["warnings"] if w.startswith("task mortality:")]
    assert warned and "only class 'no'" in warned[0]
    assert any("task mortality: the train split holds only class" in r.getMessage() for r in caplog.records)


def test_family_history_deaths_do_not_fail_the_build_but_are_counted(tmp_path):
    rows = base_rows()
    fh = HP_TEXT + "\nFAMILY HISTORY: Father died at 86. Maternal grandfather died of MI.\nPE: JVP 9 cm."
    rows["notes"] = [r if r[3] != HP or r[2] != "E5" else r[:5] + [fh] for r in rows["notes"]]
    manifest, _ = build(tmp_path, rows=rows)  # the default 1% limit: one bare match would fail it
    rep = manifest["tasks"]["mortality"]["leakage"]
    assert manifest["leakage_ok"] and rep["matched"] == 0 and rep["raw_matched"] == 1
    died = rep["patterns"][r"\bdied\b"]
    assert died["set_aside"] == {"family history section": 1}
    assert died["set_aside_example_ids"]["family history section"] == ["mortality:E5"]
