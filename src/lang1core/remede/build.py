"""Build the ReMedE tasks from validated export tables (definitions:
docs/study.md#tasks-and-labels; files: docs/architecture.md#remede-task-files).

validated/*.parquet -> remede/{task}/{split}.parquet, remede/probe/{split}.parquet and
remede/manifest.json (options, LOS edges, CCI method, windows, every drop by reason, class
counts, leakage report, provenance). Every encounter that does not become an example is counted
under one reason, so per task: encounters == examples + sum(drops).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path

import polars as pl

from lang1core.export.validate import read_validated
from lang1core.private_files import DIR_MODE, FILE_MODE, make_private, private_umask
from lang1core.publish import published_file, write_json
from lang1core.remede import labels as L
from lang1core.remede.config import BuildConfig
from lang1core.remede.leakage import LeakageError, leakage_report
from lang1core.remede.probe import probe_examples
from lang1core.remede.splits import assign_splits, mark_seen
from lang1core.remede.tasks import SPLITS, STUDY_LOS_EDGES, TASKS, los_options, los_options_continuous

log = logging.getLogger(__name__)

# Age bands for stratified evaluation (years at admission).
AGE_BANDS = ((18, "0-17"), (45, "18-44"), (65, "45-64"), (80, "65-79"), (None, "80+"))

COLUMNS = {
    "example_id": pl.String, "patient_id": pl.String, "encounter_id": pl.String, "site": pl.String,
    "note_date": pl.Date, "note_type": pl.String, "text": pl.String, "label": pl.Int64,
    "options": pl.List(pl.String), "question": pl.String, "seen_patient": pl.Boolean,
    "age": pl.Int64, "age_band": pl.String, "child": pl.Boolean, "sex": pl.String, "race": pl.String,
    "ethnicity": pl.String, "region": pl.String, "department": pl.String,
}
PROBE_COLUMNS = {**COLUMNS, "probe": pl.String}


def age_expr() -> pl.Expr:
    """Whole years between birth and admission."""
    a, b = pl.col("admit_time"), pl.col("birth_date")
    # month and day are Int8 in polars: widen before arithmetic (month * 100 overflows).
    md = lambda e: e.dt.month().cast(pl.Int32) * 100 + e.dt.day().cast(pl.Int32)
    before = md(a) < md(b)
    return (a.dt.year().cast(pl.Int64) - b.dt.year().cast(pl.Int64) - before.cast(pl.Int64)).alias("age")


def age_band_expr() -> pl.Expr:
    out = pl.lit(AGE_BANDS[-1][1])
    for upper, name in reversed(AGE_BANDS[:-1]):
        out = pl.when(pl.col("age") < upper).then(pl.lit(name)).otherwise(out)
    return out.alias("age_band")


def empty_frame(columns: dict = COLUMNS) -> pl.DataFrame:
    return pl.DataFrame(schema=columns)


def _finish(df: pl.DataFrame, task: str, options: tuple[str, ...]) -> pl.DataFrame:
    return df.with_columns(
        example_id=pl.lit(f"{task}:") + pl.col("encounter_id"),
        options=pl.lit(list(options), pl.List(pl.String)),
        question=pl.lit(TASKS[task].question),
    )


def load(validated_dir: str | Path, cfg: BuildConfig) -> dict[str, pl.DataFrame | pl.LazyFrame]:
    v = Path(validated_dir)
    patients = read_validated(v, "patients").collect()
    encounters = read_validated(v, "encounters").collect()
    used_types = sorted({t for task in cfg.tasks for t in cfg.note_types[task]})
    notes = L.join_note_parts(read_validated(v, "notes").filter(pl.col("note_type").is_in(used_types)))
    return {"patients": patients, "encounters": encounters, "notes": notes,
            "diagnoses": read_validated(v, "diagnoses").collect(), "claims": read_validated(v, "claims").collect()}


def task_examples(tables: dict, cfg: BuildConfig) -> tuple[dict[str, pl.DataFrame], dict[str, dict]]:
    """Per task: examples with split (LOS labels binned on its train split) and bookkeeping."""
    enc = tables["encounters"]
    base, class_drop = L.stays(enc, cfg)
    base = base.join(tables["patients"], on="patient_id", how="left", maintain_order="left")
    base = base.with_columns(age_expr()).with_columns(age_band_expr(), child=pl.col("age") < 18)
    note_cache: dict[tuple, tuple] = {}
    examples, info = {}, {}
    for task in cfg.tasks:
        t0 = time.perf_counter()
        types = tuple(cfg.note_types[task])
        hours = cfg.max_note_hours.get(task)
        if (types, hours) not in note_cache:
            note_cache[types, hours] = L.select_notes(base, tables["notes"], list(types), hours)
        with_note, note_drops = note_cache[types, hours]
        drops = list(class_drop) + list(note_drops)
        extra: dict = {}
        if task == "readmission":
            df, d = L.readmission(with_note, enc, cfg)
        elif task == "mortality":
            df, d = L.mortality(with_note, cfg)
        elif task == "los":
            df, d = L.los(with_note, cfg)
        elif task == "cci":
            df, d, extra["cci_method"] = L.cci(with_note, tables["diagnoses"])
        elif task == "denial":
            df, d = L.denial(with_note, tables["claims"], cfg)
        else:  # pragma: no cover (config.check rejects unknown tasks)
            raise ValueError(task)
        drops += d
        df = df.with_columns(note_date=pl.col("note_time").dt.date())
        if "label" not in df.columns:
            df = df.with_columns(label=pl.lit(0, pl.Int64))
        df, d = assign_splits(df, cfg.windows_of(task), cfg)
        drops += d
        options = TASKS[task].options
        if task == "los":
            if cfg.los_edges is not None:
                edges, source = list(cfg.los_edges), "config remede.los.edges"
            else:
                edges = L.los_edges_from(df.filter(pl.col("split") == "train")["los_value"], cfg.los_unit)
                source = "train-split quartiles"
                if len(edges) < 3:
                    edges, source = list(STUDY_LOS_EDGES), "study bins (train split empty)"
            if cfg.los_unit == "calendar_days":
                edges = [int(e) for e in edges]
                options = los_options(edges)
            else:
                options = los_options_continuous(edges)
            df = df.with_columns(label=L.los_bin(edges))
            extra["los"] = {"edges": edges, "edges_source": source, "unit": cfg.los_unit}
        examples[task] = _finish(df, task, options)
        info[task] = {"note_types": list(types), "options": list(options), "question": TASKS[task].question,
                      "encounters": base.height + class_drop[0][1], "drops": {r: n for r, n in drops if n},
                      "windows": {k: [str(a), str(b)] for k, (a, b) in cfg.windows_of(task).items()},
                      "seconds": round(time.perf_counter() - t0, 3), **extra}
    return examples, info


def build_remede(validated_dir: str | Path, out_dir: str | Path, cfg: BuildConfig, *,
                 provenance: dict | None = None, file_mode: int = FILE_MODE, dir_mode: int = DIR_MODE) -> dict:
    """Write every task x split parquet, the probe and manifest.json; return the manifest.
    The task files hold note text: they are written `file_mode`, their folders `dir_mode`.

    Raises LeakageError (after logging the report) when a task's notes match its leakage
    patterns in more than `cfg.leakage_max_rate` of its examples."""
    out = Path(out_dir)
    try:
        with private_umask(dir_mode):
            return _build(validated_dir, out, cfg, provenance)
    finally:
        make_private(out, file_mode, dir_mode)


def _build(validated_dir: str | Path, out: Path, cfg: BuildConfig, provenance: dict | None) -> dict:
    t0 = time.perf_counter()
    tables = load(validated_dir, cfg)
    examples, info = task_examples(tables, cfg)
    examples = mark_seen(examples, cfg.seen_scope)
    failures = []
    for task, df in examples.items():
        rep = leakage_report(df, cfg.leakage_patterns.get(task, []), cfg.leakage_max_rate, list(cfg.leakage_allow))
        info[task]["leakage"] = rep
        log.info("%s: leakage %d of %d notes match (%.2f%%, limit %.2f%%); %d more matched only in "
                 "context that is no leak", task, rep["matched"], rep["n"], 100 * rep["rate"],
                 100 * cfg.leakage_max_rate, rep["raw_matched"] - rep["matched"])
        for p, c in rep["patterns"].items():
            if c["raw"]:
                # Counts only: the example ids stay in manifest.json beside the task files.
                log.info("%s: leakage pattern %r: %d leaking, set aside %s", task, p, c["matched"], c["set_aside"])
        if not rep["ok"]:
            failures.append(f"{task}: {rep['matched']} of {rep['n']} notes ({rep['rate']:.1%}) match "
                            f"{[p for p, c in rep['patterns'].items() if c['matched']]} (example ids in "
                            "manifest.json, tasks.{task}.leakage)")
    for task, df in examples.items():
        counts = {}
        for split in SPLITS:
            part = df.filter(pl.col("split") == split).select(list(COLUMNS)).cast(COLUMNS).sort("example_id")
            with published_file(out / task / f"{split}.parquet") as tmp:
                part.write_parquet(tmp)
            k = len(info[task]["options"])
            by = part.group_by("label").len()
            cls = [int(by.filter(pl.col("label") == i)["len"].sum()) for i in range(k)]
            counts[split] = {"examples": part.height, "patients": part["patient_id"].n_unique(),
                             "seen_examples": int(part["seen_patient"].sum()), "classes": cls}
        info[task]["splits"] = counts
        train = counts["train"]["classes"]
        if sum(1 for c in train if c) < 2 and counts["train"]["examples"]:
            # A finetune on one class learns nothing; say which task before anyone trains.
            msg = (f"task {task}: the train split holds only class "
                   f"{info[task]['options'][next(i for i, c in enumerate(train) if c)]!r} "
                   f"({counts['train']['examples']} examples); check its labels' source columns")
            info[task]["warnings"] = [msg]
            log.warning("%s", msg)
        total = sum(c["examples"] for c in counts.values())
        info[task]["examples"] = total
        # Every encounter is an example or a counted drop.
        assert total + sum(info[task]["drops"].values()) == info[task]["encounters"], (task, total, info[task])
        log.info("%s: %d examples %s; dropped %s", task, total,
                 {s: c["examples"] for s, c in counts.items()}, info[task]["drops"])
    # Probe from the H&P examples (mortality covers every H&P stay with a discharge).
    probe_info: dict = {}
    src_task = next((t for t in ("mortality", "los", "cci", "denial") if t in examples), None)
    depts = tables["encounters"].filter(pl.col("encounter_class").is_in(list(cfg.encounter_classes)))[
        "department"].drop_nulls().unique().to_list()
    for split in cfg.probe_splits:
        hp = examples[src_task].filter(pl.col("split") == split) if src_task else empty_frame().with_columns(
            split=pl.lit(None, pl.String))
        probe, drops = probe_examples(hp, depts, cfg.seed)
        if probe.height == 0:
            probe = empty_frame(PROBE_COLUMNS)
        probe = probe.select(list(PROBE_COLUMNS)).cast(PROBE_COLUMNS).sort("example_id")
        with published_file(out / "probe" / f"{split}.parquet") as tmp:
            probe.write_parquet(tmp)
        probe_info[split] = {"examples": probe.height, "by_question": {
            k: int(n) for k, n in probe.group_by("probe").len().sort("probe").iter_rows()}, "drops": dict(drops)}
    manifest = {
        "tasks": info, "probe": {"source_task": src_task, "splits": probe_info},
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()
                   if k not in ("windows", "task_windows")},
        "split_method": {"by": cfg.split_by, "fractions": list(cfg.split_fractions), "seed": cfg.seed,
                         "hash": "blake2b-64 of '<seed>:<id>'", "external_site": cfg.held_out_site,
                         "seen_scope": cfg.seen_scope},
        "seconds": round(time.perf_counter() - t0, 3),
        "leakage_ok": not failures,
        "warnings": [w for t in info.values() for w in t.get("warnings", [])],
    }
    if provenance is not None:
        manifest["provenance"] = provenance
    write_json(out / "manifest.json", manifest, default=str)
    if failures:
        for f in failures:
            log.error("leakage: %s", f)
        raise LeakageError("leakage check failed (remede.leakage.max_rate): " + "; ".join(failures))
    return manifest
