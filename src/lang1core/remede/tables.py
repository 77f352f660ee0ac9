"""The study's dataset tables (Appendix B) from the built task files.

- B1: examples (= notes), patients, encounters and seen-patient examples per task and split;
- B2: demographics of the examples per split (age band, sex, race, ethnicity, region, child);
- B3..B7: class ratios per split of readmission, mortality, los, cci, denial.
Each is written as CSV (long, tidy) and Markdown (for the report).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lang1core.publish import published_file, write_text
from lang1core.remede.tasks import SPLITS

CLASS_TABLES = {"readmission": "B3", "mortality": "B4", "los": "B5", "cci": "B6", "denial": "B7"}
DEMOGRAPHICS = ("age_band", "child", "sex", "race", "ethnicity", "region")


def to_markdown(df: pl.DataFrame, title: str) -> str:
    cols = df.columns
    lines = [f"# {title}", "", "| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.iter_rows():
        lines.append("| " + " | ".join("" if v is None else (f"{v:.1f}" if isinstance(v, float) else str(v))
                                       for v in row) + " |")
    return "\n".join(lines) + "\n"


def _read(remede_dir: Path, task: str, split: str) -> pl.DataFrame:
    return pl.read_parquet(remede_dir / task / f"{split}.parquet")


def table_b1(remede_dir: Path, tasks: list[str]) -> pl.DataFrame:
    rows = []
    for task in tasks:
        for split in SPLITS:
            df = _read(remede_dir, task, split)
            rows.append({"task": task, "split": split, "notes": df.height, "patients": df["patient_id"].n_unique(),
                         "encounters": df["encounter_id"].n_unique(),
                         "seen_patient_notes": int(df["seen_patient"].sum()),
                         "first_date": str(df["note_date"].min()) if df.height else None,
                         "last_date": str(df["note_date"].max()) if df.height else None})
    return pl.DataFrame(rows, schema={"task": pl.String, "split": pl.String, "notes": pl.Int64, "patients": pl.Int64,
                                      "encounters": pl.Int64, "seen_patient_notes": pl.Int64,
                                      "first_date": pl.String, "last_date": pl.String})


def table_b2(remede_dir: Path, tasks: list[str]) -> pl.DataFrame:
    """Distinct encounters across tasks per split, by each demographic attribute."""
    frames = [_read(remede_dir, t, s).select("encounter_id", *DEMOGRAPHICS).with_columns(split=pl.lit(s))
              for t in tasks for s in SPLITS]
    df = pl.concat(frames).unique(["split", "encounter_id"]) if frames else pl.DataFrame()
    out = []
    for attr in DEMOGRAPHICS:
        g = (df.group_by("split", pl.col(attr).cast(pl.String).fill_null("unknown").alias("group")).len("n")
             .with_columns(attribute=pl.lit(attr),
                           percent=(100 * pl.col("n") / pl.col("n").sum().over("split")).round(2)))
        out.append(g.select("attribute", "group", "split", "n", "percent"))
    order = {s: i for i, s in enumerate(SPLITS)}
    res = pl.concat(out).with_columns(_o=pl.col("split").replace_strict(order, return_dtype=pl.Int64))
    return res.sort("attribute", "group", "_o").drop("_o")


def table_class(remede_dir: Path, task: str, options: list[str]) -> pl.DataFrame:
    rows = []
    for split in SPLITS:
        lab = _read(remede_dir, task, split)["label"]
        n = lab.len()
        for i, opt in enumerate(options):
            k = int((lab == i).sum())
            rows.append({"task": task, "split": split, "label": i, "option": opt, "n": k,
                         "percent": round(100 * k / n, 2) if n else None})
    return pl.DataFrame(rows, schema={"task": pl.String, "split": pl.String, "label": pl.Int64, "option": pl.String,
                                      "n": pl.Int64, "percent": pl.Float64})


def write_tables(remede_dir: str | Path, manifest: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write B1..B7 (CSV + Markdown) to out_dir; tasks missing from the manifest get an
    empty table (MIMIC-III has no denial), so the set of files is fixed."""
    remede_dir, out_dir = Path(remede_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = list(manifest["tasks"])
    tables = {"B1_counts": (table_b1(remede_dir, tasks), "Table B1: notes, patients and encounters per task and split"),
              "B2_demographics": (table_b2(remede_dir, tasks), "Table B2: demographics of the examples per split")}
    for task, b in CLASS_TABLES.items():
        if task in manifest["tasks"]:
            df = table_class(remede_dir, task, manifest["tasks"][task]["options"])
        else:
            df = pl.DataFrame(schema={"task": pl.String, "split": pl.String, "label": pl.Int64, "option": pl.String,
                                      "n": pl.Int64, "percent": pl.Float64})
        tables[f"{b}_{task}"] = (df, f"Table {b}: class ratios of {task} per split")
    paths = {}
    for name, (df, title) in tables.items():
        with published_file(out_dir / f"{name}.csv") as tmp:
            df.write_csv(tmp)
        write_text(out_dir / f"{name}.md", to_markdown(df, title))
        paths[name] = out_dir / f"{name}.csv"
    return paths


def ratio_summary(manifest: dict, split: str = "temporal_2024") -> dict[str, list[float]]:
    """Class shares (%) per task on one split, from the manifest's counts."""
    out = {}
    for task, info in manifest["tasks"].items():
        cls = info["splits"][split]["classes"]
        n = sum(cls)
        out[task] = [round(100 * c / n, 1) if n else float("nan") for c in cls]
    return out
