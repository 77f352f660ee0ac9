"""The claims report: claims.csv and claims.md from the evaluation tables and predictions.

The Markdown states its rules before its results (they come from config, not from the
data), then one section per claim. Both files carry provenance: config hash, code version,
seed, and a digest of every input file.
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path

import polars as pl

from lang1core.evaluate.claims import ALL, EVERY, TITLES, VERDICTS, ClaimSettings, Loader, claims_table
from lang1core.evaluate.run import PredictionError, load_split, task_split
from lang1core.contracts import read_table
from lang1core.provenance import provenance
from lang1core.publish import published_file, write_text

log = logging.getLogger(__name__)

SYNTHETIC_NOTE = ("**These results come from the built-in synthetic hospital: made-up patients, "
                  "debug-size models. They show that every stage runs; they are not findings "
                  "about any hospital.**")


def file_loader(predictions: list[str], remede: list[str], oracle: str | None) -> Loader:
    """Predictions `predictions/{model}/{recipe}/{task}/{split}.parquet` joined to their
    ReMedE examples (and the oracle), read on demand."""
    preds = {}
    for p in map(Path, predictions):
        preds[(p.parents[2].name, p.parents[1].name, *task_split(p))] = p
    remede_by = {task_split(p): p for p in remede}
    oracle_df = pl.read_parquet(oracle) if oracle else None

    @lru_cache(maxsize=32)  # a claim revisits the same few files; all of them may not fit
    def load(model: str, recipe: str, task: str, split: str) -> pl.DataFrame | None:
        path = preds.get((model, recipe, task, split))
        if path is None:
            return None
        if (task, split) not in remede_by:
            raise PredictionError(f"{path}: no ReMedE file for task {task!r} split {split!r} "
                                  "among the inputs")
        return load_split(path, remede_by[(task, split)], oracle_df, strata=[])[0]

    return load


def _num(v, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _interval(r: dict) -> str:
    if r["estimate"] is None:
        return "—"
    ci = f" [{_num(r['lo'])}, {_num(r['hi'])}]" if r["lo"] is not None else " (no interval)"
    return _num(r["estimate"]) + ci


def _cell(text) -> str:
    return "" if text is None else str(text).replace("|", "\\|")


def _table(rows: list[dict], columns: list[tuple[str, callable]]) -> list[str]:
    out = ["| " + " | ".join(c for c, _ in columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(_cell(f(r)) for _, f in columns) + " |" for r in rows]
    return out


def rules_section(s: ClaimSettings) -> list[str]:
    """How verdicts are decided, from the settings alone (written before any result)."""
    m, d = s.near_chance_margin, s.noninferiority_margin
    resample = ("patients (each draw takes all of a patient's examples)" if s.cluster_by_patient
                else "examples (within each task and split)")
    return [
        "## How verdicts are decided",
        "",
        f"Intervals are {s.ci_level:.0%} percentile bootstrap intervals over {s.n_bootstrap} "
        f"resamples of {resample}. A difference between models or periods is paired: every "
        "compared AUROC is computed on the same resample"
        + (", and different tasks or periods share one draw of patients" if s.cluster_by_patient else "")
        + ". Single AUROCs (claim a) are the evaluate stage's intervals from `tables/auroc.csv`.",
        "",
        "- **above t**: reproduced when the interval lies above t; contradicted when it lies "
        "below t; otherwise inconclusive.",
        "- **below t**: reproduced when the interval lies below t; contradicted when it lies "
        "above t.",
        f"- (a) *near chance*: reproduced when the interval lies inside 0.5 ± {m:g}; contradicted "
        f"when it lies wholly outside. The exceptions ({', '.join(s.zeroshot_exceptions) or 'none'}) "
        f"must lie above {0.5 + m:g}.",
        "- (b), (c) and cross-task transfer in (d): *beats* is **above 0** for the difference.",
        f"- (d) joint vs single-task and (f) external vs {s.internal_split}: *at least as good* "
        f"is non-inferiority, **above −{d:g}**.",
        f"- (e) *at or below*: **below +{d:g}** for later period minus `{s.periods[0]}`.",
        "- A claim over tasks (task `all`) is reproduced when every task is, contradicted when "
        "any task is (an intersection-union test: reproduced needs no multiplicity correction; "
        "a single contradicted task among several is not corrected for multiplicity). Means "
        "over tasks (d) are judged on their own interval.",
        "- **not evaluated**: the inputs are missing (a run the config did not ask for), or a "
        f"split has fewer than two classes with {s.min_class_examples} examples each (one class, "
        "or so few positives that the bootstrap is degenerate); the reason says which. An "
        "interval that could not be computed is inconclusive.",
        "- The oracle share is reported, not judged.",
        "",
        f"Judged on split `{s.split}` (claims e and f: the splits named); model `{s.model}` for "
        f"(d)–(f); pretraining order {' > '.join(s.pretraining_order)} for (c).",
    ]


def render_markdown(table: pl.DataFrame, settings: ClaimSettings, prov: dict, source: str) -> str:
    rows = table.to_dicts()
    lines = ["# The study's claims, reproduced or refuted", ""]
    if source == "synthetic":
        lines += [SYNTHETIC_NOTE, ""]
    lines += [f"Data source: {source}. Provenance: config hash `{prov['config_hash']}`, code version "
              f"`{prov['code_version']}`, seed {prov['seed']}, inputs digest `{prov['inputs_digest']}`.",
              "", *rules_section(settings), "", "## Verdicts", ""]
    counts = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    lines += ["Rows: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n) + ".", ""]
    summary = [r for r in rows if r["task"] == ALL]
    lines += _table(summary, [("Claim", lambda r: r["claim"]), ("Compared", lambda r: r["compared"]),
                              ("Statistic", lambda r: r["statistic"]),
                              ("Estimate [95% CI]", _interval), ("Verdict", lambda r: f"**{r['verdict']}**"),
                              ("Reason", lambda r: r["reason"])])
    cols = [("Task", lambda r: r["task"]), ("Split", lambda r: r["split"]),
            ("Compared", lambda r: r["compared"]), ("Statistic", lambda r: r["statistic"]),
            ("Estimate [95% CI]", _interval), ("n", lambda r: r["n"]),
            ("Verdict", lambda r: r["verdict"]), ("Reason", lambda r: r["reason"])]
    for claim, title in TITLES.items():
        part = [r for r in rows if r["claim"] == claim]
        if not part:
            continue
        rules: dict[str, list[str]] = {}  # rule -> the statistics it judges, in order
        for r in part:
            stats = rules.setdefault(r["rule"], [])
            what = "task `all`" if r["rule"] == EVERY.text else r["statistic"]
            if what not in stats:
                stats.append(what)
        lines += ["", f"## ({claim}) {title}" if claim != "oracle" else f"## {title}", ""]
        lines += [f"- {'; '.join(stats)}: {rule}." for rule, stats in rules.items()] + [""]
        lines += _table(part, cols)
    return "\n".join(lines) + "\n"


def write_claims(runs: str, auroc: str, predictions: list[str], remede: list[str], oracle: str | None,
                 settings: ClaimSettings, seed: int, tasks: list[str], out_csv: str | Path,
                 out_md: str | Path, config=None, source: str = "synthetic") -> pl.DataFrame:
    """Judge every claim; write the table (CSV, with provenance columns) and the report."""
    files = {"runs": runs, "auroc": auroc, **{"/".join(Path(p).parts[-5:]): p for p in predictions},
             **({"oracle": oracle} if oracle else {})}
    prov = provenance(config if config is not None else settings.__dict__, seed, **files)
    digest = hashlib.sha256("\n".join(f"{k}={v}" for k, v in sorted(prov.pop("files").items())).encode())
    prov["inputs_digest"] = digest.hexdigest()[:16]
    table = claims_table(read_table(runs, "runs"), read_table(auroc, "auroc"),
                         file_loader(predictions, remede, oracle), settings, seed, tasks, progress=True)
    with published_file(out_csv) as tmp:
        table.with_columns(pl.lit(prov["config_hash"]).alias("config_hash"),
                           pl.lit(prov["code_version"]).alias("code_version"),
                           pl.lit(seed, dtype=pl.Int64).alias("seed")).write_csv(tmp)
    write_text(out_md, render_markdown(table, settings, prov, source))
    log.info("%s: %d rows; %s", out_csv, table.height, out_md)
    return table
