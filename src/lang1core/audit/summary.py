"""The audit's verdicts side by side: results/audit/summary.md (in the Snakemake report) and
summary.csv, one row per model and check. Numbers only."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from lang1core.publish import published_file, write_text


def summary_rows(results: list[dict]) -> list[dict]:
    return [{"model": r["model"], "verdict": "PASS" if r["verdict"]["pass"] else "FAIL", "check": c["check"],
             "value": c["value"], "threshold": c["threshold"],
             "result": "pass" if c["pass"] else ("FAIL" if c["pass"] is False else c["status"])}
            for r in results for c in r["verdict"]["checks"]]


def write_summary(results: list[dict], markdown: str | Path, table: str | Path) -> None:
    rows = summary_rows(results)
    with published_file(table) as tmp:
        pl.DataFrame(rows, schema={"model": pl.String, "verdict": pl.String, "check": pl.String,
                                   "value": pl.Float64, "threshold": pl.Float64, "result": pl.String}).write_csv(tmp)
    lines = ["# Memorisation and identifier audit", "",
             ("A model fails when any check exceeds its threshold (config `audit.thresholds`); "
              "`results/audit/{model}.json` holds every number and the settings."), ""]
    for r in results:
        v = r["verdict"]
        lines += [f"## {r['model']}: {'PASS' if v['pass'] else 'FAIL'}", "",
                  "| check | value | threshold | result |", "|---|---|---|---|"]
        for row in (x for x in rows if x["model"] == r["model"]):
            value = "—" if row["value"] is None else f"{row['value']:.3f}"
            lines.append(f"| {row['check']} | {value} | {row['threshold']} | {row['result']} |")
        lines.append("")
    write_text(markdown, "\n".join(lines))
