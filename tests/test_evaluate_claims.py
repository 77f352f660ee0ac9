"""The claims report's verdicts on constructed runs whose truth is known by construction.

A small world of runs is built from the evaluation fixtures: each (model, recipe, task,
split) gets predictions with a chosen signal (0: chance, 3: strong, -3: reversed) or an exact
copy of another run's, so every claim has a reproduced, a contradicted, an inconclusive and a
not-evaluated case that no seed can flip.
"""

from __future__ import annotations

import dataclasses
import zlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from eval_fixtures import build_all, predictions_frame, remede_frame

from lang1core.evaluate.claims import (
    ALL,
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_EVALUATED,
    REPORTED,
    REPRODUCED,
    ClaimSettings,
    Claims,
    above,
    below,
    every,
    within,
)
from lang1core.evaluate.claims_report import write_claims
from lang1core.contracts import TABLE_SCHEMAS, read_table
from lang1core.evaluate.tables import write_tables
from lang1core.remede.tasks import TASKS

REPO = Path(__file__).resolve().parents[1]
SPLITS = ("test", "temporal", "temporal_2024", "external")
OWN = ("readmission", "los", "cci")  # tasks with single-task runs
N = 300


def settings(**over) -> ClaimSettings:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    return dataclasses.replace(ClaimSettings.from_config(config), **{"n_bootstrap": 200, **over})


# (model, recipe, task, split) -> signal, or another run's key to copy exactly; None = any.
SPEC = [
    # zero-shot: chance except mortality; lang1 weak on cci, the generalist strong on LOS
    (("lang1", "zeroshot", None, None), 0.0),
    (("lang1", "zeroshot", "cci", None), 1.0),
    (("generalist", "zeroshot", None, None), 0.0),
    (("generalist", "zeroshot", "los", None), 3.0),
    ((None, "zeroshot", "mortality", None), 3.0),
    # lang1 finetuned: readmission strong in-period and at the external site, weaker later
    (("lang1", "readmission", "readmission", None), 1.0),
    (("lang1", "readmission", "readmission", "test"), 3.0),
    (("lang1", "readmission", "readmission", "external"), 6.0),
    # ... LOS reversed in-period, at chance later (later periods better: contradicts e)
    (("lang1", "los", "los", None), 0.0),
    (("lang1", "los", "los", "test"), -3.0),
    # ... CCI: exactly the zero-shot predictions at the headline split (b inconclusive),
    # reversed at the external site (f contradicted)
    (("lang1", "cci", "cci", "temporal_2024"), ("lang1", "zeroshot", "cci", "temporal_2024")),
    (("lang1", "cci", "cci", "external"), -3.0),
    # transfer: strong on denial (zero-shot at chance), useless on mortality (zero-shot strong)
    *[(("lang1", r, "denial", None), 3.0) for r in OWN],
    *[(("lang1", r, "mortality", None), 0.0) for r in OWN],
    # joint: copies of single-task on readmission and CCI, reversed on LOS
    (("lang1", "joint", "readmission", None), ("lang1", "readmission", "readmission", None)),
    (("lang1", "joint", "cci", None), ("lang1", "cci", "cci", None)),
    (("lang1", "joint", "los", None), -3.0),
    # data efficiency: at n=16 the study's order on readmission, reversed on LOS; n=64 the
    # reverse of n=16, so judging the wrong size flips the verdict
    (("lang1", "readmission-n16", None, None), 3.0),
    (("generalist", "readmission-n16", None, None), 1.0),
    (("scratch", "readmission-n16", None, None), 0.0),
    (("lang1", "readmission-n64", None, None), 0.0),
    (("generalist", "readmission-n64", None, None), 1.0),
    (("scratch", "readmission-n64", None, None), 3.0),
    (("lang1", "los-n16", None, None), 0.0),
    (("generalist", "los-n16", None, None), 3.0),
]
RUNS = [("lang1", "zeroshot", "zeroshot"), ("generalist", "zeroshot", "zeroshot"),
        *[("lang1", t, "finetune") for t in OWN], ("generalist", "readmission", "finetune"),
        ("scratch", "readmission", "scratch"), ("lang1", "joint", "joint"),
        *[(m, f"readmission-n{n}", "efficiency") for m in ("lang1", "generalist", "scratch") for n in (16, 64)],
        ("lang1", "los-n16", "efficiency"), ("generalist", "los-n16", "efficiency")]


def spec_for(key):
    best, hits = 1.0, -1  # unspecified: weak
    for pattern, value in SPEC:
        if all(p is None or p == k for p, k in zip(pattern, key)):
            n = sum(p is not None for p in pattern)
            if n >= hits:
                best, hits = value, n
    return best


def examples(task: str, split: str) -> pl.DataFrame:
    ex = remede_frame(task, split, N, seed=0)
    if (task, split) == ("los", "external"):  # one class only: LOS at the external site
        ex = ex.with_columns(pl.lit(0, dtype=pl.Int64).alias("label"))
    return ex


def world(oracle: bool = True) -> dict:
    frames: dict = {}
    exs = {(t, s): examples(t, s) for t in TASKS for s in SPLITS}

    def make(key):
        if key in frames:
            return frames[key]
        model, recipe, task, split = key
        value = spec_for(key)
        if isinstance(value, tuple):
            src = tuple(k if v is None else v for v, k in zip(value, key))
            df = make(src)
        else:
            ex = exs[(task, split)]
            df = predictions_frame(ex, len(TASKS[task].options), value, zlib.crc32(str(key).encode()))
            if oracle:
                o = predictions_frame(ex, len(TASKS[task].options), 6.0, zlib.crc32(f"oracle{task}{split}".encode()))
                df = df.with_columns(pl.Series("oracle_probs", o.select(pl.col("^prob_.*$")).to_numpy().tolist()))
        frames[key] = df
        return df

    for model, recipe, kind in RUNS:
        tasks = [recipe.split("-n")[0]] if kind == "efficiency" else list(TASKS)
        for task in tasks:
            for split in SPLITS:
                make((model, recipe, task, split))
    return frames


def runs_frame() -> pl.DataFrame:
    return pl.DataFrame([{"model": m, "recipe": r, "kind": k} for m, r, k in RUNS]).select(
        [pl.col(c) if c in ("model", "recipe", "kind") else pl.lit(None, dtype=t).alias(c)
         for c, t in TABLE_SCHEMAS["runs"].items()])


def auroc_frame(rows: list[tuple]) -> pl.DataFrame:
    """(model, task, auroc, lo, hi) zero-shot rows at the headline split."""
    return pl.DataFrame([{"model": m, "recipe": "zeroshot", "task": t, "split": "temporal_2024",
                          "subset": "all", "n": 100, "auroc": a, "ci_low": lo, "ci_high": hi}
                         for m, t, a, lo, hi in rows], schema={c: TABLE_SCHEMAS["auroc"][c] for c in (
                             "model", "recipe", "task", "split", "subset", "n", "auroc", "ci_low", "ci_high")})


AUROC = [  # lang1: one task clearly above chance -> a contradicted; generalist: as claimed
    ("lang1", "readmission", 0.52, 0.45, 0.58), ("lang1", "los", 0.55, 0.42, 0.66),
    ("lang1", "cci", 0.80, 0.72, 0.88), ("lang1", "mortality", 0.80, 0.70, 0.90),
    ("generalist", "readmission", 0.50, 0.44, 0.56), ("generalist", "los", 0.51, 0.45, 0.57),
    ("generalist", "cci", 0.49, 0.41, 0.59), ("generalist", "denial", 0.50, 0.42, 0.58),
    ("generalist", "mortality", 0.75, 0.65, 0.85), ("lang1", "denial", None, None, None),
]


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    frames = world()
    claims = Claims(runs_frame(), auroc_frame(AUROC), lambda *k: frames.get(k), settings(),
                    seed=3407, tasks=list(TASKS))
    return claims.table()


def row(table, claim, task, contains="", split=None) -> dict:
    hit = table.filter((pl.col("claim") == claim) & (pl.col("task") == task)
                       & pl.col("statistic").str.contains(contains, literal=True))
    if split:
        hit = hit.filter(pl.col("split") == split)
    assert hit.height == 1, (claim, task, contains, hit)
    return hit.row(0, named=True)


# --- the rules ---

@pytest.mark.parametrize("rule,lo,hi,verdict", [
    (above(0), 0.01, 0.2, REPRODUCED), (above(0), -0.2, -0.01, CONTRADICTED),
    (above(0), -0.1, 0.1, INCONCLUSIVE), (above(-0.02), -0.01, 0.05, REPRODUCED),
    (above(-0.02), -0.1, -0.01, INCONCLUSIVE), (below(0.02), -0.3, 0.01, REPRODUCED),
    (below(0.02), 0.03, 0.2, CONTRADICTED), (below(0.02), -0.1, 0.1, INCONCLUSIVE),
    (within(0.4, 0.6), 0.45, 0.58, REPRODUCED), (within(0.4, 0.6), 0.61, 0.8, CONTRADICTED),
    (within(0.4, 0.6), 0.2, 0.39, CONTRADICTED), (within(0.4, 0.6), 0.5, 0.7, INCONCLUSIVE),
    (above(0), None, None, INCONCLUSIVE),
])
def test_rules_judge_intervals(rule, lo, hi, verdict):
    assert rule.judge(lo, hi) == verdict


def test_a_claim_over_tasks_needs_every_task_and_fails_on_any():
    assert every([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert every([REPRODUCED, INCONCLUSIVE]) == INCONCLUSIVE
    assert every([REPRODUCED, NOT_EVALUATED]) == INCONCLUSIVE
    assert every([INCONCLUSIVE, CONTRADICTED, REPRODUCED]) == CONTRADICTED
    assert every([NOT_EVALUATED, NOT_EVALUATED]) == NOT_EVALUATED


# --- (a) zero-shot near chance ---

def test_a_near_chance_band_and_the_mortality_exception(table):
    lang1 = table.filter((pl.col("claim") == "a") & (pl.col("compared") == "lang1/zeroshot"))
    by_task = {r["task"]: r for r in lang1.to_dicts()}
    assert by_task["readmission"]["verdict"] == REPRODUCED
    assert by_task["los"]["verdict"] == INCONCLUSIVE  # 0.66 is outside 0.5 +- 0.1
    assert by_task["cci"]["verdict"] == CONTRADICTED
    assert by_task["mortality"]["verdict"] == REPRODUCED and "exception" in by_task["mortality"]["statistic"]
    assert by_task["denial"]["verdict"] == NOT_EVALUATED and "no AUROC" in by_task["denial"]["reason"]
    assert by_task[ALL]["verdict"] == CONTRADICTED
    gen = {r["task"]: r for r in table.filter((pl.col("claim") == "a")
                                              & (pl.col("compared") == "generalist/zeroshot")).to_dicts()}
    assert gen[ALL]["verdict"] == REPRODUCED
    assert (gen["cci"]["estimate"], gen["cci"]["lo"], gen["cci"]["hi"]) == (0.49, 0.41, 0.59)


def test_a_exception_near_chance_contradicts_and_missing_runs_are_not_evaluated():
    rows = [("lang1", t, 0.5, 0.45, 0.55) for t in TASKS]
    frames = world()
    claims = Claims(runs_frame(), auroc_frame(rows), lambda *k: frames.get(k), settings(), 1, list(TASKS))
    got = {r["task"]: r for r in claims.zeroshot_near_chance() if r["compared"] == "lang1/zeroshot"}
    assert got["mortality"]["verdict"] == CONTRADICTED and got[ALL]["verdict"] == CONTRADICTED
    gen = [r for r in claims.zeroshot_near_chance() if r["compared"] == "generalist/zeroshot"]
    assert {r["verdict"] for r in gen if r["task"] != ALL} == {NOT_EVALUATED}
    none = Claims(runs_frame().filter(pl.col("kind") != "zeroshot"), auroc_frame(rows), lambda *k: None,
                  settings(), 1, list(TASKS))
    [only] = none.zeroshot_near_chance()
    assert only["verdict"] == NOT_EVALUATED and "finetune.zeroshot_models" in only["reason"]


# --- (b) finetuned vs best zero-shot ---

def test_b_finetuned_against_the_best_zero_shot_model(table):
    assert row(table, "b", "readmission", "lang1 finetuned")["verdict"] == REPRODUCED
    los = row(table, "b", "los", "lang1 finetuned")
    assert los["verdict"] == CONTRADICTED  # the generalist's zero-shot LOS is strong
    cci = row(table, "b", "cci", "lang1 finetuned")  # the same predictions as zero-shot
    assert cci["verdict"] == INCONCLUSIVE and cci["estimate"] == 0 and cci["hi"] == 0
    gone = row(table, "b", "los", "scratch finetuned")
    assert gone["verdict"] == NOT_EVALUATED and "no run scratch/los" in gone["reason"]
    assert row(table, "b", ALL, "lang1 finetuned")["verdict"] == CONTRADICTED


# --- (c) pretraining order ---

def test_c_order_at_the_smallest_size_and_the_narrowing_gap(table):
    assert row(table, "c", "readmission", "lang1 − generalist AUROC")["verdict"] == REPRODUCED
    assert row(table, "c", "readmission", "generalist − scratch AUROC")["verdict"] == REPRODUCED
    assert row(table, "c", "readmission", "gap lang1 − generalist, fewest examples − all")["verdict"] == REPRODUCED
    assert row(table, "c", "los", "lang1 − generalist AUROC")["verdict"] == CONTRADICTED
    missing = row(table, "c", "los", "generalist − scratch AUROC")
    assert missing["verdict"] == NOT_EVALUATED and "no run scratch/los-n16" in missing["reason"]
    none = row(table, "c", "cci", "lang1 − generalist AUROC")
    assert none["verdict"] == NOT_EVALUATED and "no data-efficiency runs" in none["reason"]
    assert row(table, "c", ALL, "lang1 − generalist AUROC")["verdict"] == CONTRADICTED


# --- (d) joint and transfer ---

def test_d_joint_is_non_inferior_per_task_and_judged_on_its_mean(table):
    same = row(table, "d", "readmission", "joint − single-task")
    assert same["verdict"] == REPRODUCED and same["lo"] == same["hi"] == 0
    assert row(table, "d", "los", "joint − single-task")["verdict"] == CONTRADICTED
    mean = row(table, "d", ALL, "joint − single-task")
    assert mean["verdict"] == CONTRADICTED and "3 of 3 tasks" in mean["reason"]
    per_task = [row(table, "d", t, "joint − single-task")["estimate"] for t in OWN]
    assert mean["estimate"] == pytest.approx(np.mean(per_task))


def test_d_cross_task_transfer_against_zero_shot(table):
    assert row(table, "d", "denial", "another task − zero-shot")["verdict"] == REPRODUCED
    assert row(table, "d", "mortality", "another task − zero-shot")["verdict"] == CONTRADICTED
    # readmission is predicted by the LOS and CCI runs, not by its own
    assert "lang1/readmission" not in row(table, "d", "readmission", "another task")["compared"]


# --- (e) later periods, (f) external site ---

def test_e_later_periods_at_or_below_the_in_period_test(table):
    assert row(table, "e", "readmission", split="temporal_2024")["verdict"] == REPRODUCED
    assert row(table, "e", "readmission", split="temporal")["verdict"] == REPRODUCED
    assert row(table, "e", "los", split="temporal_2024")["verdict"] == CONTRADICTED


def test_f_external_site_non_inferior_and_single_class_not_evaluated(table):
    assert row(table, "f", "readmission")["verdict"] == REPRODUCED
    assert row(table, "f", "cci")["verdict"] == CONTRADICTED
    los = row(table, "f", "los")
    assert los["verdict"] == NOT_EVALUATED and "one class" in los["reason"]
    assert row(table, "f", ALL)["verdict"] == CONTRADICTED


# --- oracle share ---

def test_oracle_share_is_reported_from_both_aurocs(table):
    share = table.filter((pl.col("claim") == "oracle") & (pl.col("task") == "readmission")
                         & (pl.col("compared").str.starts_with("lang1/"))).row(0, named=True)
    assert share["verdict"] == REPORTED and share["lo"] < share["estimate"] < share["hi"]
    from sklearn.metrics import roc_auc_score
    df = world()[("lang1", "readmission", "readmission", "temporal_2024")]
    y = df["label"].to_numpy()
    a = roc_auc_score(y, df["prob_1"].to_numpy())
    o = roc_auc_score(y, np.array(df["oracle_probs"].to_list())[:, 1])
    assert share["estimate"] == pytest.approx((a - 0.5) / (o - 0.5))


def test_oracle_share_without_an_oracle_is_not_evaluated():
    frames = world(oracle=False)
    claims = Claims(runs_frame(), auroc_frame(AUROC), lambda *k: frames.get(k), settings(), 1, list(TASKS))
    rows = claims.oracle_share()
    assert rows and {r["verdict"] for r in rows} == {NOT_EVALUATED}
    assert all("no oracle probabilities" in r["reason"] for r in rows if r["compared"].startswith("lang1/"))


def test_every_row_has_a_rule_and_a_reason_when_not_evaluated(table):
    assert table["rule"].null_count() == 0
    assert table.filter((pl.col("verdict") == NOT_EVALUATED) & (pl.col("reason") == "")).is_empty()
    assert set(table["verdict"]) <= {REPRODUCED, CONTRADICTED, INCONCLUSIVE, NOT_EVALUATED, REPORTED}


def test_a_different_seed_moves_intervals_not_estimates():
    frames = world()
    one = Claims(runs_frame(), auroc_frame(AUROC), lambda *k: frames.get(k), settings(), 1, list(TASKS))
    two = Claims(runs_frame(), auroc_frame(AUROC), lambda *k: frames.get(k), settings(), 2, list(TASKS))
    a, b = one.external_site()[0], two.external_site()[0]
    assert a["estimate"] == b["estimate"] and a["lo"] != b["lo"]


# --- files: from the evaluate stage's outputs to claims.csv and claims.md ---

def test_write_claims_from_evaluate_outputs(tmp_path):
    from lang1core.evaluate.metrics import EvalSettings
    from lang1core.evaluate.run import evaluate_run

    runs = [("lang1", "zeroshot"), ("generalist", "zeroshot"), ("lang1", "readmission"), ("lang1", "joint")]
    paths = build_all(tmp_path, runs=runs, n=60)
    root = Path(tmp_path)
    ev = EvalSettings(n_bootstrap=50, strata=[])
    metrics = []
    for model, recipe in runs:
        preds = sorted(str(p) for p in (root / "predictions" / model / recipe).glob("*/*.parquet"))
        out = root / "metrics" / model / f"{recipe}.json"
        evaluate_run(preds, sorted(str(p) for p in (root / "remede").glob("*/*.parquet")),
                     str(root / "predictions" / model / recipe / "run.json"), out, ev, 3407,
                     oracle=str(paths["oracle"]), model=model, recipe=recipe)
        metrics.append(out)
    write_tables(metrics, root / "tables")
    preds = sorted(str(p) for p in (root / "predictions").glob("*/*/*/*.parquet")
                   if p.stem in SPLITS)
    remede = sorted(str(p) for p in (root / "remede").glob("*/*.parquet"))
    table = write_claims(str(root / "tables/runs.csv"), str(root / "tables/auroc.csv"), preds, remede,
                         str(paths["oracle"]), settings(n_bootstrap=50), 3407, list(TASKS),
                         root / "tables/claims.csv", root / "claims.md", config={"x": 1})
    back = pl.read_csv(root / "tables/claims.csv")
    assert back.height == table.height > 0
    assert {"config_hash", "code_version", "seed"} <= set(back.columns)
    assert read_table(root / "tables/claims.csv", "claims").height == table.height
    md = (root / "claims.md").read_text()
    assert md.index("How verdicts are decided") < md.index("## Verdicts") < md.index("## (a)")
    assert "synthetic hospital" in md and "0.5 ± 0.1" in md
    # the fixture's notes and patients never reach the report
    assert "note text" not in md
    ex = pl.read_parquet(root / "remede/readmission/test.parquet")
    assert not any(p in md for p in ex["patient_id"].unique().to_list())
    # `lang1 claims` finds the same files in the results folder: the same estimates
    from lang1core.cli import main
    assert main(["claims", str(root), "--config", str(REPO / "config.yaml"),
                 "--out-md", str(root / "cli.md"), "--out-csv", str(root / "cli.csv")]) == 0
    cli = pl.read_csv(root / "cli.csv")
    assert cli.select("claim", "statistic", "task", "estimate").equals(
        back.select("claim", "statistic", "task", "estimate"))
    assert (cli["n_bootstrap"] == 1000).all()  # config.yaml's evaluate.n_bootstrap


def test_splits_with_too_few_examples_of_a_class_are_not_evaluated():
    pos = {t: int(examples(t, "temporal_2024")["label"].sum()) for t in ("readmission", "mortality")}
    assert pos["mortality"] < pos["readmission"]
    frames = world()
    rows = [("lang1", t, 0.5, 0.45, 0.55) for t in TASKS]
    claims = Claims(runs_frame(), auroc_frame(rows), lambda *k: frames.get(k),
                    settings(min_class_examples=pos["mortality"] + 1), 1, list(TASKS))
    got = {r["task"]: r for r in claims.zeroshot_near_chance() if r["compared"] == "lang1/zeroshot"}
    assert got["mortality"]["verdict"] == NOT_EVALUATED
    assert "claims.min_class_examples" in got["mortality"]["reason"]
    assert got["readmission"]["verdict"] == REPRODUCED
    joint = {r["task"]: r for r in claims.joint_and_transfer() if "joint" in r["statistic"]}
    assert joint["readmission"]["verdict"] == REPRODUCED


def test_settings_take_the_figures_split_and_model_unless_set():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["figures"].update(split="temporal", primary_model="generalist")
    s = ClaimSettings.from_config(config)
    assert (s.split, s.model, s.n_bootstrap) == ("temporal", "generalist", config["evaluate"]["n_bootstrap"])
    config["claims"].update(split="test", model="lang1")
    assert (ClaimSettings.from_config(config).split, ClaimSettings.from_config(config).model) == ("test", "lang1")
    del config["claims"]["noninferiority_margin"]
    with pytest.raises(KeyError, match="claims.noninferiority_margin"):
        ClaimSettings.from_config(config)
