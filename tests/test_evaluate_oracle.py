"""The oracle is scored on the task's own classes: LOS arrives as a distribution over whole
days and is mapped to the bins the ReMedE build chose; an oracle whose class definition does
not match the task's is refused instead of silently scored."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from eval_fixtures import FIXTURE_LOS_EDGES, build_oracle, build_remede, predictions_frame, spread_to_days
from lang1core.evaluate.run import PredictionError, oracle_for_task
from lang1core.remede.labels import day_probs_to_bins
from lang1core.remede.tasks import TASKS


def test_days_map_to_the_task_bins_by_the_build_rule():
    # A stay certain to last d days lands in the bin `los_bin` gives d: (e_{c-1}, e_c].
    days = np.eye(31)
    bins = day_probs_to_bins(days, [1, 3, 5])
    assert bins.argmax(1).tolist()[:8] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert np.allclose(bins.sum(1), 1)
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=50)
    assert np.allclose(day_probs_to_bins(spread_to_days(p), FIXTURE_LOS_EDGES), p)


@pytest.mark.parametrize("edges", [[1.5, 3, 5], [2, 3, 30], [-1, 3, 5]])
def test_edges_the_days_cannot_express_are_refused(edges):
    with pytest.raises(ValueError, match="whole days"):
        day_probs_to_bins(np.full((2, 31), 1 / 31), edges)


@pytest.fixture
def built(tmp_path):
    frames = build_remede(tmp_path, n=40, tasks=("los", "mortality"), splits=("test",))
    return tmp_path, frames, pl.read_parquet(build_oracle(tmp_path, frames))


def test_los_oracle_is_mapped_with_the_manifest_edges(built):
    root, frames, oracle = built
    o = oracle_for_task(oracle, "los", root / "remede" / "los" / "test.parquet")
    assert len(o) == len(frames[("los", "test")])
    probs = np.array(o["oracle_probs"].to_list())
    assert probs.shape[1] == len(TASKS["los"].options)
    assert np.allclose(probs.sum(1), 1)
    # Other edges in the manifest give other class probabilities (the mapping reads them).
    m = json.loads((root / "remede" / "manifest.json").read_text())
    m["tasks"]["los"]["los"]["edges"] = [1, 4, 8]
    (root / "remede" / "manifest.json").write_text(json.dumps(m))
    other = np.array(oracle_for_task(oracle, "los", root / "remede" / "los" / "test.parquet")["oracle_probs"].to_list())
    assert not np.allclose(other, probs)


def test_an_oracle_binned_its_own_way_is_refused(built):
    root, frames, oracle = built
    ex = frames[("los", "test")]
    p = predictions_frame(ex, 4, 3.0, 0).select([f"prob_{c}" for c in range(4)]).to_numpy()
    fixed = oracle.filter(pl.col("task") != "los").vstack(pl.DataFrame(
        {"task": "los", "encounter_id": ex["encounter_id"], "classes": "options", "probs": p.tolist(),
         "label": ex["label"]}, schema=oracle.schema))
    with pytest.raises(PredictionError, match="expected 'days'"):
        oracle_for_task(fixed, "los", root / "remede" / "los" / "test.parquet")
    # An oracle file without a class definition (an older generator's) is refused too.
    with pytest.raises(PredictionError, match="classes"):
        oracle_for_task(oracle.drop("classes"), "mortality", root / "remede" / "mortality" / "test.parquet")


def test_los_unit_other_than_whole_days_is_refused(built):
    root, _, oracle = built
    m = json.loads((root / "remede" / "manifest.json").read_text())
    m["tasks"]["los"]["los"]["unit"] = "continuous"
    (root / "remede" / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(PredictionError, match="whole days"):
        oracle_for_task(oracle, "los", root / "remede" / "los" / "test.parquet")
