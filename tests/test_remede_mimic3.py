"""ReMedE on MIMIC-III through the adapter (docs/study.md#mimic-iii), on the foundation's fixture:
readmission, mortality and LOS; one admission note per stay by note-type priority; notes
written more than 120 h after admission removed; continuous LOS bins."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from lang1core.export import validate_export
from lang1core.export.mimic3 import convert_mimic3
from lang1core.remede.build import build_remede
from lang1core.remede.config import BuildConfig
from lang1core.remede.tasks import SPLITS

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "mimic3"


def merged(a: dict, b: dict) -> dict:
    """Snakemake's --configfile overlay: nested mappings merge key by key."""
    out = dict(a)
    for k, v in b.items():
        out[k] = merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mimic")
    convert_mimic3(FIXTURE, tmp / "export")
    validate_export(tmp / "export", tmp / "validated")
    base = yaml.safe_load((REPO / "config.yaml").read_text())
    conf = merged(base, yaml.safe_load((REPO / "configs" / "mimic3.yaml").read_text()))
    cfg = BuildConfig.from_dict(conf["remede"], seed=conf["seed"], held_out_site=conf["held_out_site"])
    manifest = build_remede(tmp / "validated", tmp / "remede", cfg)
    frames = {t: pl.concat([pl.read_parquet(tmp / "remede" / t / f"{s}.parquet").with_columns(split=pl.lit(s))
                            for s in SPLITS]) for t in cfg.tasks}
    return manifest, frames, tmp


def test_three_tasks_every_stay_in_the_random_splits(built):
    manifest, frames, _ = built
    assert list(manifest["tasks"]) == ["readmission", "mortality", "los"]
    for task, df in frames.items():
        assert df.height > 0, task
        assert set(df["split"]) <= {"train", "val", "test"}, task
        info = manifest["tasks"][task]
        assert info["examples"] + sum(info["drops"].values()) == info["encounters"]


def test_admission_note_by_priority_and_120_hours(built):
    _, frames, tmp = built
    notes = pl.read_parquet(tmp / "validated" / "notes.parquet")
    enc = pl.read_parquet(tmp / "validated" / "encounters.parquet")
    mort = frames["mortality"]
    for row in mort.iter_rows(named=True):
        cands = notes.filter(pl.col("encounter_id") == row["encounter_id"]).join(enc, on="encounter_id")
        cands = cands.filter((pl.col("note_time") - pl.col("admit_time")) <= pl.duration(hours=120))
        prio = ["history_and_physical", "progress", "consult", "general", "nursing", "radiology"]
        best = min(prio.index(t) for t in cands["note_type"] if t in prio)
        assert row["note_type"] == prio[best], row["encounter_id"]
        assert row["note_type"] != "discharge_summary"
    # Stay 116935 has an admission note and progress notes: the admission note wins.
    assert mort.filter(pl.col("encounter_id") == "116935")["note_type"].to_list() == ["history_and_physical"]


def test_mortality_and_readmission_labels(built):
    _, frames, _ = built
    mort = dict(zip(frames["mortality"]["encounter_id"], frames["mortality"]["label"]))
    assert mort.get("124271") == 1  # HOSPITAL_EXPIRE_FLAG 1
    assert mort.get("116935") == 0
    readm = dict(zip(frames["readmission"]["encounter_id"], frames["readmission"]["label"]))
    # 249: discharged 2149-12-31, admitted again 2150-01-20 (20 days)
    assert readm.get("116935") == 1


def test_continuous_los_bins(built):
    manifest, frames, _ = built
    los = manifest["tasks"]["los"]["los"]
    assert los["unit"] == "continuous"
    assert manifest["tasks"]["los"]["options"][0].startswith("up to ")
    df = frames["los"]
    assert df["label"].min() >= 0 and df["label"].max() <= 3
