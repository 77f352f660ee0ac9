"""The evaluation tables the figures read (R/tables/*.csv), one row per result.

The tables' schemas are defined in lang1core/contracts.py: this stage writes by them and the
figures stage (lang1core/figures/tables.py) reads by them. Every table is written with its
header even when no run produced a row, so a figure can say "not run" instead of failing. Every row that holds a
metric carries the `status` of its (task, split, subset) AUROC (lang1core/evaluate/status.py),
so a reader of any table sees whether the number behind it can be read.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import polars as pl

from lang1core.contracts import table_frame
from lang1core.evaluate.status import NO_EXAMPLES, OK
from lang1core.publish import published_file

log = logging.getLogger(__name__)

S = pl.String


def _int(v):
    return None if v is None else int(v)


def metrics_rows(doc: dict) -> dict[str, list[dict]]:
    """One metrics JSON -> rows of runs, auroc, calibration, strata and alerts."""
    key = {"model": doc["model"], "recipe": doc["recipe"]}
    run = doc.get("run", {})
    rows: dict[str, list[dict]] = {n: [] for n in ("runs", "auroc", "calibration", "strata", "alerts")}
    rows["runs"].append({**key, **{c: run.get(c) for c in ("kind", "base", "train_task")},
                         **{c: _int(run.get(c)) for c in ("n_train", "pretrain_tokens", "finetune_tokens")}})
    for r in doc["results"]:
        ts = {**key, "task": r["task"], "split": r["split"]}
        for subset, m in r["subsets"].items():
            ppl = m.get("qa_ppl") or {}
            rows["auroc"].append({**ts, "subset": subset, **{c: m.get(c) for c in (
                "n", "n_pos", "auroc", "ci_low", "ci_high", "status", "ci_method", "auroc_micro",
                "ece", "oracle_auroc", "oracle_share", "accuracy")}, "qa_ppl": ppl.get("geomean")})
            if subset != "all":
                continue
            # Calibration bins and alert points share their split's status: with one positive
            # a sensitivity is 0 or 1, whatever the model.
            status = {"status": m.get("status")}
            rows["calibration"] += [{**ts, **b, **status} for b in m.get("calibration", [])]
            rows["strata"] += [{**ts, **s, "ci_method": m.get("ci_method")} for s in m.get("strata", [])]
            rows["alerts"] += [{**ts, **a, **status} for a in m.get("alerts", [])]
    return rows


def build_tables(metrics_files: list[str | Path], out_dir: str | Path) -> dict[str, Path]:
    """Merge metrics JSONs into runs/auroc/calibration/strata/alerts CSVs under out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[dict]] = {n: [] for n in ("runs", "auroc", "calibration", "strata", "alerts")}
    for path in sorted(map(str, metrics_files)):
        doc = json.loads(Path(path).read_text())
        for name, rs in metrics_rows(doc).items():
            rows[name] += rs
    written = {}
    for name, rs in rows.items():
        written[name] = out_dir / f"{name}.csv"
        with published_file(written[name]) as tmp:
            table_frame(name, rs).write_csv(tmp)
        log.info("%s: %d rows", written[name], len(rs))
    return written


def conditional_table(mortality: list[str | Path], los: list[str | Path], out: str | Path) -> pl.DataFrame:
    """P(LOS bin | mortality) and P(mortality | LOS bin) over the encounters labelled for both
    tasks (every split pooled: the relation between outcomes, not a model's performance)."""
    def load(files, name):
        files = [f for f in files if pl.read_parquet_schema(f)]
        if not files:
            return pl.DataFrame(schema={"encounter_id": S, name: S})
        df = pl.concat([pl.read_parquet(f, columns=["encounter_id", "label", "options"]) for f in files])
        df = df.unique("encounter_id", keep="first", maintain_order=True)
        return df.select(pl.col("encounter_id").cast(S),
                         pl.col("options").list.get(pl.col("label"), null_on_oob=True).alias(name))

    both = load(mortality, "mortality").join(load(los, "los"), on="encounter_id", how="inner")
    log.info("conditional table: %d encounters labelled for mortality and LOS", len(both))
    order = {}
    for f, name in [(f, "mortality") for f in mortality] + [(f, "los") for f in los]:
        opts = pl.read_parquet(f, columns=["options"]).head(1)
        if len(opts) and name not in order:
            order[name] = opts["options"][0].to_list()
    rows = []
    for direction, given, outcome in (("los|mortality", "mortality", "los"), ("mortality|los", "los", "mortality")):
        for g in order.get(given, []):
            sub = both.filter(pl.col(given) == g)
            for o in order.get(outcome, []):
                hit = sub.filter(pl.col(outcome) == o).height
                rows.append({"direction": direction, "given": g, "outcome": o,
                             "probability": hit / len(sub) if len(sub) else None, "n": len(sub),
                             "status": OK if len(sub) else NO_EXAMPLES})
    df = table_frame("conditional", rows)
    with published_file(out) as tmp:
        df.write_csv(tmp)
    return df


def dataset_tables(files: list[str | Path], out_dir: str | Path) -> list[str]:
    """Copy ReMedE's dataset tables (remede/stats/B*.csv and .md) into tables/ unchanged."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for src in map(Path, files):
        with published_file(out_dir / src.name) as tmp:
            shutil.copyfile(src, tmp)
        copied.append(src.name)
    log.info("copied %d dataset table file(s): %s", len(copied), ", ".join(copied))
    return copied


def write_tables(metrics_files: list[str | Path], out_dir: str | Path, mortality: list[str | Path] = (),
                 los: list[str | Path] = (), dataset_files: list[str | Path] = ()) -> dict[str, Path]:
    """Every table the figures read: the metrics tables, conditional.csv (headers only without
    ReMedE's mortality and LOS files) and copies of the dataset tables."""
    written = build_tables(metrics_files, out_dir)
    written["conditional"] = Path(out_dir) / "conditional.csv"
    if mortality and los:
        conditional_table(list(mortality), list(los), written["conditional"])
    else:
        log.info("no ReMedE mortality/LOS files: conditional.csv has headers only")
        with published_file(written["conditional"]) as tmp:
            table_frame("conditional", []).write_csv(tmp)
    dataset_tables(list(dataset_files), out_dir)
    return written
