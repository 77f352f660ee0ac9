"""Is a validated export ready for the study? Per configured task: how many examples it
would get, whether its labels can be derived and, if not, why; the note types it needs
against those the export holds; the export's sites against `held_out_site`.

A site's first export usually validates row by row and still yields nothing: its note types
read "History and Physical", its dispositions are empty, its claims table is a header. The
task build (`build.task_examples`) is run as the workflow will run it, so the counts here
are the ones the study will get, and an empty task is an error naming the cause before any
compute is spent.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lang1core.export.validate import read_validated
from lang1core.remede.build import load, task_examples
from lang1core.remede.config import BuildConfig

# Per task: (table, column) its label is derived from, beyond the stay itself.
LABEL_SOURCES = {
    "readmission": ("encounters", "discharge_time"),
    "mortality": ("encounters", "discharge_disposition"),
    "los": ("encounters", "discharge_time"),
    "cci": ("diagnoses", "icd10_code"),
    "denial": ("claims", "status"),
}


def _label_source(task: str, tables: dict, stays: pl.DataFrame) -> str | None:
    """Why `task`'s label cannot be derived for any stay, or None when it can for some."""
    table, column = LABEL_SOURCES[task]
    if table == "encounters":
        if stays.height and stays[column].is_null().all():
            return f"encounters.{column} is empty for every stay of the configured classes"
        return None
    df = tables[table]
    if df.height == 0:
        return f"the {table} table has no rows"
    if not df["encounter_id"].is_in(stays["encounter_id"].implode()).any():
        return f"no {table} row belongs to a stay of the configured classes"
    return None


def readiness(validated_dir: str | Path, cfg: BuildConfig) -> dict:
    """Per-task readiness of the validated tables in `validated_dir` (see the module doc).

    Returns {"tasks": {task: {...}}, "sites": {...}, "note_types": {...}, "errors": [...]};
    every error names the task (or key) and the cause."""
    v = Path(validated_dir)
    tables = load(v, cfg)
    types = (read_validated(v, "notes").group_by("note_type").len().sort(["len", "note_type"], descending=[True, False])
             .collect())
    found_types = dict(zip(types["note_type"], types["len"]))
    enc = tables["encounters"]
    stays = enc.filter(pl.col("encounter_class").is_in(list(cfg.encounter_classes)))
    sites = dict(zip(*enc.group_by("site").len().sort("site").get_columns()))
    examples, info = task_examples(tables, cfg)
    errors, warnings, out = [], [], {}
    if cfg.held_out_site is not None and cfg.held_out_site not in sites:
        errors.append(f"held_out_site {cfg.held_out_site!r} is not a site of the export "
                      f"(sites: {', '.join(map(repr, sites)) or 'none'})")
    for task in cfg.tasks:
        df, i = examples[task], info[task]
        needed = list(cfg.note_types[task])
        have = {t: found_types.get(t, 0) for t in needed}
        split_n = df.group_by("split").len()
        splits = dict(zip(split_n["split"], split_n["len"]))
        train = df.filter(pl.col("split") == "train")
        classes = {i["options"][k]: int((train["label"] == k).sum()) for k in range(len(i["options"]))}
        why_no_label = _label_source(task, tables, stays)
        entry = {"eligible": df.height, "splits": splits, "train_classes": classes,
                 "labels": "derivable" if why_no_label is None else f"not derivable: {why_no_label}",
                 "note_types_needed": have, "drops": i["drops"]}
        out[task] = entry
        if train.height and sum(1 for n in classes.values() if n) < 2:
            warnings.append(f"task {task}: the train split holds one class only {classes}")
        if df.height:
            continue
        if stays.height == 0:
            cause = (f"no encounters of class {list(cfg.encounter_classes)} "
                     f"(found: {', '.join(map(repr, enc['encounter_class'].unique().sort().to_list()))})")
        elif not any(have.values()):
            shown = ", ".join(f"{t!r} ({n})" for t, n in list(found_types.items())[:8]) or "none"
            cause = (f"none of its note types {needed} is in notes.note_type (found: {shown}); "
                     "map the site's names in export.note_types")
        elif why_no_label is not None:
            cause = why_no_label
        else:
            reason, n = max(i["drops"].items(), key=lambda kv: kv[1]) if i["drops"] else ("unknown", 0)
            cause = f"every stay was dropped; most for '{reason}' ({n})"
        errors.append(f"task {task}: no examples — {cause}")
    return {"tasks": out, "sites": sites, "held_out_site": cfg.held_out_site, "note_types": found_types,
            "warnings": warnings, "errors": errors}


def format_readiness(r: dict) -> str:
    """The readiness report as text, one block per task."""
    lines = ["\nreadiness per task"]
    for task, e in r["tasks"].items():
        splits = " ".join(f"{s}={n}" for s, n in sorted(e["splits"].items()))
        need = ", ".join(f"{t} ({n})" for t, n in e["note_types_needed"].items())
        lines.append(f"  {task:<12} {e['eligible']:>8} eligible  {splits}")
        lines.append(f"  {'':<12} labels {e['labels']}; train classes {e['train_classes']}")
        lines.append(f"  {'':<12} note types needed (found): {need}")
    found = ", ".join(f"{t!r} ({n})" for t, n in list(r["note_types"].items())[:12])
    lines.append(f"  note types in the export: {found or 'none'}")
    site = r["held_out_site"]
    lines.append(f"  sites: {', '.join(f'{s} ({n})' for s, n in r['sites'].items())}; held_out_site: "
                 + (f"{site!r} ({'found' if site in r['sites'] else 'NOT FOUND'})" if site else "none"))
    for w in r.get("warnings", []):
        lines.append(f"WARNING: {w}")
    for e in r["errors"]:
        lines.append(f"ERROR: {e}")
    return "\n".join(lines)
