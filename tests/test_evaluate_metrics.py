"""Calibration, alerts, strata, the run's JSON and the tables, on hand-made and fixture data."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from eval_fixtures import build_all, build_remede, build_run
from sklearn.metrics import roc_auc_score

from lang1core.evaluate.alerts import alert_points
from lang1core.evaluate.calibration import confidence_and_hit, reliability
from lang1core.evaluate.metrics import EvalSettings, score_split
from lang1core.evaluate.run import PredictionError, evaluate_run
from lang1core.contracts import TABLE_SCHEMAS
from lang1core.evaluate.tables import build_tables, conditional_table, write_tables

def test_ece_on_a_hand_made_case():
    conf = np.array([0.1, 0.1, 0.9, 0.9, 1.0])
    hit = np.array([0, 1, 1, 1, 1])
    bins, ece = reliability(conf, hit, n_bins=10)
    assert len(bins) == 10
    assert bins[1]["count"] == 2 and bins[1]["confidence"] == pytest.approx(0.1) and bins[1]["accuracy"] == 0.5
    # 0.9, 0.9 and 1.0 share the last bin (closed at 1)
    assert bins[9]["count"] == 3 and bins[9]["confidence"] == pytest.approx(2.8 / 3) and bins[9]["accuracy"] == 1
    assert bins[0]["count"] == 0 and bins[0]["confidence"] is None
    assert ece == pytest.approx(2 / 5 * 0.4 + 3 / 5 * (1 - 2.8 / 3))
    assert reliability(np.array([0.3] * 4), np.array([0, 0, 1, 0]), 15)[1] == pytest.approx(0.05)


def test_calibration_scores_binary_and_top_label():
    probs = np.array([[0.8, 0.2], [0.3, 0.7]])
    conf, hit = confidence_and_hit(probs, np.array([1, 1]))
    np.testing.assert_allclose(conf, [0.2, 0.7])  # binary: positive-class risk
    np.testing.assert_array_equal(hit, [1, 1])
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.3, 0.5]])
    conf, hit = confidence_and_hit(probs, np.array([0, 1]))
    np.testing.assert_allclose(conf, [0.6, 0.5])  # multi-class: top label
    np.testing.assert_array_equal(hit, [1, 0])


def test_alert_points_by_hand():
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    labels = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0])
    rows = alert_points(scores, labels, [0.1, 0.2, 0.5])
    assert [r["flagged"] for r in rows] == [1, 2, 5]
    assert rows[0]["threshold"] == 0.95 and rows[0]["ppv"] == 1 and rows[0]["sensitivity"] == pytest.approx(1 / 3)
    assert rows[1]["ppv"] == 0.5
    assert rows[2]["sensitivity"] == pytest.approx(2 / 3) and rows[2]["ppv"] == pytest.approx(2 / 5)
    # ties at the threshold are all flagged, as a deployed threshold would
    tied = alert_points(np.array([0.9, 0.5, 0.5, 0.5, 0.1]), np.array([1, 1, 0, 0, 0]), [0.4])[0]
    assert tied["threshold"] == 0.5 and tied["flagged"] == 4 and tied["sensitivity"] == 1 and tied["ppv"] == 0.5


def hand_frame():
    rng = np.random.default_rng(0)
    n = 200
    label = (rng.random(n) < 0.3).astype(int)
    child = np.arange(n) < 20
    label[child] = 0  # the child stratum holds one class
    p1 = np.clip(rng.random(n) * 0.6 + 0.3 * label, 0, 1)
    return pl.DataFrame({
        "example_id": [str(i) for i in range(n)], "patient_id": [f"p{i // 2}" for i in range(n)],
        "label": label, "prob_0": 1 - p1, "prob_1": p1, "qa_ppl": np.full(n, 2.0),
        "seen_patient": np.arange(n) % 3 == 0, "child": child,
        "sex": np.where(np.arange(n) % 2 == 0, "female", "male"), "region": [None] * 10 + ["north"] * (n - 10),
    })


def test_single_class_stratum_is_reported_not_dropped():
    df = hand_frame()
    settings = EvalSettings(n_bootstrap=50, strata=["child", "sex", "region", "race"])
    out = score_split(df, 2, "mortality", "test", settings, 1)
    strata = out["subsets"]["all"]["strata"]
    child = {r["group"]: r for r in strata if r["attribute"] == "child"}
    assert child["child"]["status"] == "single class" and child["child"]["auroc"] is None
    assert child["child"]["n"] == 20 and child["child"]["n_pos"] == 0
    assert child["adult"]["status"] == "ok" and child["adult"]["ci_low"] is not None
    region = {r["group"]: r["n"] for r in strata if r["attribute"] == "region"}
    assert region == {"missing": 10, "north": 190}  # nulls are a group, counted
    assert [r["status"] for r in strata if r["attribute"] == "race"] == ["no examples"]  # column absent
    sexes = {r["group"]: r for r in strata if r["attribute"] == "sex"}
    mask = (df["sex"] == "female").to_numpy()
    expected = roc_auc_score(df["label"].to_numpy()[mask], df["prob_1"].to_numpy()[mask])
    assert sexes["female"]["auroc"] == pytest.approx(expected)


def test_subsets_all_and_unseen():
    df = hand_frame()
    out = score_split(df, 2, "mortality", "test", EvalSettings(n_bootstrap=20, strata=[]), 1)
    unseen = df.filter(~pl.col("seen_patient"))
    assert out["subsets"]["all"]["n"] == 200 and out["subsets"]["unseen"]["n"] == len(unseen)
    assert out["subsets"]["unseen"]["auroc"] == pytest.approx(roc_auc_score(unseen["label"], unseen["prob_1"]))
    assert out["subsets"]["all"]["qa_ppl"]["geomean"] == pytest.approx(2.0)
    assert out["subsets"]["all"]["ci_method"] == "patient"
    assert len(out["subsets"]["all"]["calibration"]) == 15


@pytest.fixture
def fixture_run(tmp_path):
    built = build_all(tmp_path, runs=[("lang1", "zeroshot")], n=90)
    preds = [str(p) for p in built["runs"][("lang1", "zeroshot")]]
    remede = [str(p) for p in (tmp_path / "remede").glob("*/*.parquet")]
    return tmp_path, built, preds, remede


def run_eval(root, preds, remede, out="m.json", oracle=True, **kw):
    settings = EvalSettings(n_bootstrap=kw.pop("n_bootstrap", 30), **kw)
    return evaluate_run(preds, remede, str(root / "predictions/lang1/zeroshot/run.json"), root / out,
                        settings, 3407, config={"seed": 3407},
                        oracle=str(root / "oracle/oracle.parquet") if oracle else None)


def test_run_json_covers_every_test_split_with_provenance(fixture_run):
    root, built, preds, remede = fixture_run
    doc = run_eval(root, preds, remede)
    got = {(r["task"], r["split"]) for r in doc["results"]}
    assert got == {(t, s) for t in ("readmission", "mortality", "los", "cci", "denial")
                   for s in ("test", "temporal", "temporal_2024", "external")}
    prov = doc["provenance"]
    assert {"config_hash", "code_version", "seed", "files", "run_provenance"} <= set(prov)
    assert prov["seed"] == 3407 and "oracle" in prov["files"] and "run_json" in prov["files"]
    assert "predictions/readmission/test" in prov["files"] and "remede/readmission/test" in prov["files"]
    assert doc["run"]["kind"] == "zeroshot" and doc["model"] == "lang1"
    r = next(r for r in doc["results"] if r["task"] == "los" and r["split"] == "test")["subsets"]["all"]
    assert r["auroc_micro"] is not None and r["n_pos"] is None and r["alerts"] == []
    assert r["oracle_share"] == pytest.approx(r["auroc"] / r["oracle_auroc"])
    # the JSON on disk is strict JSON and identical when run again
    text = (root / "m.json").read_text()
    json.loads(text)
    run_eval(root, preds, remede, out="m2.json")
    assert (root / "m2.json").read_text() == text


def test_no_oracle_leaves_oracle_columns_null(fixture_run):
    root, _, preds, remede = fixture_run
    doc = run_eval(root, preds, remede, oracle=False, splits=["test"])
    assert all(r["subsets"]["all"]["oracle_auroc"] is None for r in doc["results"])
    assert {r["split"] for r in doc["results"]} == {"test"}


def test_bad_predictions_fail_naming_the_file(fixture_run):
    root, _, preds, remede = fixture_run
    path = next(p for p in preds if p.endswith("mortality/test.parquet"))
    df = pl.read_parquet(path)
    df.with_columns(label=1 - pl.col("label")).write_parquet(path)
    with pytest.raises(PredictionError, match="mortality/test.parquet.*label differs"):
        run_eval(root, preds, remede)
    df.with_columns(example_id=pl.lit("nope")).write_parquet(path)
    with pytest.raises(PredictionError, match="not in"):
        run_eval(root, preds, remede)


def test_rows_without_probabilities_are_dropped_and_counted(fixture_run):
    root, _, preds, remede = fixture_run
    path = next(p for p in preds if p.endswith("readmission/test.parquet"))
    df = pl.read_parquet(path)
    missing = pl.when(pl.int_range(pl.len()) < 3).then(None).otherwise(pl.col("prob_1"))
    df.with_columns(prob_1=missing).write_parquet(path)
    doc = run_eval(root, preds, remede)
    assert doc["dropped"]["readmission/test"]["missing_probability"] == 3
    r = next(r for r in doc["results"] if r["task"] == "readmission" and r["split"] == "test")
    assert r["subsets"]["all"]["n"] == len(df) - 3


def test_tables_follow_the_contract(tmp_path):
    built = build_all(tmp_path, runs=[("lang1", "zeroshot"), ("generalist", "readmission")], n=60)
    remede = [str(p) for p in (tmp_path / "remede").glob("*/*.parquet")]
    metrics = []
    for (model, recipe), preds in built["runs"].items():
        out = tmp_path / "metrics" / model / f"{recipe}.json"
        evaluate_run([str(p) for p in preds], remede, str(tmp_path / "predictions" / model / recipe / "run.json"),
                     out, EvalSettings(n_bootstrap=20), 1, config={}, oracle=str(built["oracle"]))
        metrics.append(out)
    written = build_tables(metrics, tmp_path / "tables")
    for name, path in written.items():
        df = pl.read_csv(path)
        assert df.columns == list(TABLE_SCHEMAS[name]), name
    auroc = pl.read_csv(written["auroc"])
    assert auroc.height == 2 * 5 * 4 * 2  # runs x tasks x test splits x subsets
    assert set(auroc["subset"]) == {"all", "unseen"}
    strata = pl.read_csv(written["strata"])
    assert set(strata["attribute"]) == {"age_band", "sex", "race", "ethnicity", "region", "child"}
    assert set(pl.read_csv(written["runs"])["model"]) == {"lang1", "generalist"}
    # no runs yet: headers only, so figures can say "not run"
    empty = build_tables([], tmp_path / "empty")
    assert pl.read_csv(empty["auroc"]).columns == list(TABLE_SCHEMAS["auroc"])


def test_conditional_probabilities_by_hand(tmp_path):
    opts_m, opts_l = ["no", "yes"], ["short", "long"]
    for task, labels, opts in (("mortality", [0, 0, 1, 1, 0], opts_m), ("los", [0, 1, 1, 1, 0], opts_l)):
        path = tmp_path / task / "test.parquet"
        path.parent.mkdir(parents=True)
        pl.DataFrame({"encounter_id": [f"e{i}" for i in range(5)], "label": labels, "options": [opts] * 5}
                     ).write_parquet(path)
    df = conditional_table([tmp_path / "mortality/test.parquet"], [tmp_path / "los/test.parquet"], tmp_path / "c.csv")
    assert df.columns == list(TABLE_SCHEMAS["conditional"])
    get = {(r["direction"], r["given"], r["outcome"]): (r["probability"], r["n"]) for r in df.to_dicts()}
    assert get[("los|mortality", "no", "long")] == (pytest.approx(1 / 3), 3)
    assert get[("los|mortality", "yes", "long")] == (1.0, 2)
    assert get[("mortality|los", "long", "yes")] == (pytest.approx(2 / 3), 3)
    assert get[("mortality|los", "short", "yes")] == (0.0, 2)


def test_write_tables_copies_dataset_tables_and_always_writes_conditional(tmp_path):
    build_remede(tmp_path, n=10, tasks=("mortality",), splits=("test",))
    stats = sorted((tmp_path / "remede/stats").glob("B*"))
    written = write_tables([], tmp_path / "tables", dataset_files=stats)
    assert (tmp_path / "tables/B1_counts.csv").read_bytes() == (tmp_path / "remede/stats/B1_counts.csv").read_bytes()
    assert (tmp_path / "tables/B7_denial.md").exists() and len(list((tmp_path / "tables").glob("B*"))) == 14
    # without ReMedE's mortality and LOS files the figure still finds its table (headers only)
    assert pl.read_csv(written["conditional"]).columns == list(TABLE_SCHEMAS["conditional"])


def test_fixture_builder_writes_the_prediction_contract(tmp_path):
    frames = build_remede(tmp_path, n=30, tasks=("cci",), splits=("test",))
    (path,) = build_run(tmp_path, frames, "m", "zeroshot", tasks=["cci"], splits=["test"])
    df = pl.read_parquet(path)
    assert df.columns == ["example_id", "patient_id", "label", *[f"prob_{k}" for k in range(5)], "qa_ppl"]
    np.testing.assert_allclose(df.select(pl.sum_horizontal(pl.selectors.starts_with("prob_"))).to_series(), 1.0)


def test_cli_scores_a_run_folder(tmp_path):
    from lang1core.cli import main

    build_all(tmp_path, runs=[("lang1", "zeroshot")], n=40)
    rc = main(["evaluate", str(tmp_path / "predictions/lang1/zeroshot"), "--remede", str(tmp_path / "remede"),
               "--oracle", str(tmp_path / "oracle/oracle.parquet"), "--out", str(tmp_path / "m.json"),
               "--tables", str(tmp_path / "t"), "--n-bootstrap", "10", "--splits", "test"])
    assert rc == 0
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["model"] == "lang1" and doc["recipe"] == "zeroshot" and len(doc["results"]) == 5
    assert pl.read_csv(tmp_path / "t/auroc.csv").height == 10


def test_probe_rows_with_fewer_options_keep_null_probabilities_as_zero(tmp_path):
    # probe questions have different option counts; absent options carry null probability
    ex = pl.DataFrame({"example_id": ["a", "b", "c", "d"], "patient_id": ["p1", "p2", "p3", "p4"],
                       "encounter_id": ["e1", "e2", "e3", "e4"], "label": [0, 1, 2, 1],
                       "options": [["x", "y", "z"], ["x", "y"], ["x", "y", "z"], ["x", "y"]],
                       "seen_patient": [False] * 4})
    pred = pl.DataFrame({"example_id": ["a", "b", "c", "d"], "patient_id": ["p1", "p2", "p3", "p4"],
                         "label": [0, 1, 2, 1], "prob_0": [0.7, 0.2, 0.1, 0.6], "prob_1": [0.2, 0.8, 0.2, 0.4],
                         "prob_2": [0.1, None, 0.7, None], "qa_ppl": [None] * 4},
                        schema_overrides={"qa_ppl": pl.Float64})
    for name, df in (("remede", ex), ("pred", pred)):
        (tmp_path / name / "probe").mkdir(parents=True)
        df.write_parquet(tmp_path / name / "probe" / "test.parquet")
    doc = evaluate_run([str(tmp_path / "pred/probe/test.parquet")], [str(tmp_path / "remede/probe/test.parquet")],
                       None, tmp_path / "m.json", EvalSettings(n_bootstrap=10, strata=[]), 1, config={},
                       model="m", recipe="zeroshot")
    r = doc["results"][0]["subsets"]["all"]
    assert r["n"] == 4 and r["accuracy"] == 0.75 and r["qa_ppl"] is None
    assert doc["dropped"]["probe/test"]["missing_probability"] == 0


def status_frame(labels, k=2, seed=0):
    """Predictions for `labels` with random probabilities, one patient per example."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels, dtype=np.int64)
    p = rng.dirichlet(np.ones(k), size=len(labels)) if len(labels) else np.zeros((0, k))
    return pl.DataFrame({"example_id": [str(i) for i in range(len(labels))],
                         "patient_id": [f"p{i}" for i in range(len(labels))], "label": labels,
                         **{f"prob_{c}": p[:, c] for c in range(k)},
                         "seen_patient": np.zeros(len(labels), dtype=bool)},
                        schema_overrides={"label": pl.Int64, "example_id": pl.String, "patient_id": pl.String})


@pytest.mark.parametrize("labels,k,status", [
    ([], 2, "no examples"),
    ([0] * 30, 2, "single class"),
    ([1] + [0] * 40, 2, "1 positive"),
    ([1] * 4 + [0] * 40, 2, "4 positives"),
    ([0] * 2 + [1] * 40, 2, "2 negatives"),
    ([0] * 40 + [1] * 3 + [2] * 2, 3, "3 positives"),  # multi-class: fewer than two classes readable
])
def test_unreadable_auroc_has_a_status_and_no_number(labels, k, status):
    out = score_split(status_frame(labels, k), k, "mortality", "test",
                      EvalSettings(n_bootstrap=50, strata=["sex"], min_positives=5), 1)
    for subset in ("all", "unseen"):
        r = out["subsets"][subset]
        assert r["status"] == status, subset
        assert r["auroc"] is None and r["ci_low"] is None and r["ci_high"] is None
        assert r["n"] == len(labels)
    assert out["subsets"]["all"]["oracle_share"] is None


def test_min_positives_is_the_threshold():
    labels = [1] * 5 + [0] * 40  # exactly the minimum: scored
    df = status_frame(labels)
    ok = score_split(df, 2, "mortality", "test", EvalSettings(n_bootstrap=50, strata=[], min_positives=5), 1)
    r = ok["subsets"]["all"]
    assert r["status"] == "ok" and r["n_pos"] == 5
    assert r["auroc"] == pytest.approx(roc_auc_score(df["label"], df["prob_1"]))
    assert r["ci_low"] <= r["auroc"] <= r["ci_high"]
    strict = score_split(df, 2, "mortality", "test", EvalSettings(n_bootstrap=50, strata=[], min_positives=6), 1)
    assert strict["subsets"]["all"]["status"] == "5 positives" and strict["subsets"]["all"]["auroc"] is None
    # multi-class: an absent class is left out of the macro average, not counted as 0 positives
    los = score_split(status_frame([0] * 20 + [2] * 20 + [3] * 5, 4), 4, "los", "test",
                      EvalSettings(n_bootstrap=20, strata=[], min_positives=5), 1)["subsets"]["all"]
    assert los["status"] == "ok" and los["auroc"] is not None and los["classes_evaluated"] == [0, 2, 3]
    # a rare class (CCI > 7) does not make a multi-class task unreadable
    cci = score_split(status_frame([0] * 30 + [1] * 12 + [2] * 6 + [4] * 1, 5), 5, "cci", "test",
                      EvalSettings(n_bootstrap=20, strata=[], min_positives=5), 1)["subsets"]["all"]
    assert cci["status"] == "ok" and cci["auroc"] is not None


def test_status_reaches_every_metrics_table(tmp_path):
    built = build_all(tmp_path, runs=[("lang1", "zeroshot")], n=60)
    remede = [str(p) for p in (tmp_path / "remede").glob("*/*.parquet")]
    # One positive in mortality/test: the tables must say so, not report an AUROC of 0 or 1.
    path = next(p for p in built["runs"][("lang1", "zeroshot")] if str(p).endswith("mortality/test.parquet"))
    pred = pl.read_parquet(path)
    first_pos = pred.with_row_index().filter(pl.col("label") == 1)["index"][0]
    pred = pred.with_row_index().filter((pl.col("label") == 0) | (pl.col("index") == first_pos)).drop("index")
    pred.write_parquet(path)
    out = tmp_path / "m.json"
    evaluate_run([str(p) for p in built["runs"][("lang1", "zeroshot")]], remede,
                 str(tmp_path / "predictions/lang1/zeroshot/run.json"), out,
                 EvalSettings(n_bootstrap=20, splits=["test"]), 1, config={}, oracle=str(built["oracle"]))
    written = build_tables([out], tmp_path / "tables")
    for name in ("auroc", "calibration", "strata", "alerts"):
        df = pl.read_csv(written[name])
        assert df["status"].null_count() == 0, name
    auroc = pl.read_csv(written["auroc"]).filter(pl.col("task") == "mortality", pl.col("subset") == "all")
    assert auroc["status"].to_list() == ["1 positive"] and auroc["auroc"].to_list() == [None]
    alerts = pl.read_csv(written["alerts"]).filter(pl.col("task") == "mortality")
    assert set(alerts["status"]) == {"1 positive"}


def test_config_min_positives_is_documented_and_validated(repo):
    import dataclasses

    import jsonschema
    import yaml

    schema = yaml.safe_load((repo / "workflow/schemas/evaluate.schema.yaml").read_text())
    section = yaml.safe_load((repo / "config.yaml").read_text())["evaluate"]
    jsonschema.validate(section, schema)
    assert section["min_positives"] == EvalSettings().min_positives
    assert set(section) == {f.name for f in dataclasses.fields(EvalSettings)}  # every knob configurable
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**section, "min_positives": 0}, schema)
