"""Summarise a built corpus: extraction and cleaning counts by reason, pretraining exclusions per
mix, shard token counts, and the Appendix-G table (computed from clean.parquet when the workflow
has not written it yet)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "summarise a built corpus (drops by reason, exclusions, tokens, Appendix G statistics)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", nargs="?", default="results", help="the workflow's results folder")
    p.add_argument("--tokenizer", default=None,
                   help="SentencePiece model for token counts (default: <results>/tokenizer/spm.model)")
    p.add_argument("--by", default=None, help="show only this dimension of the Appendix-G table "
                                              "(note_type, year, site, department, region)")


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def summary(results: Path, tokenizer: str | None = None, by: str | None = None) -> str:
    import polars as pl

    from lang1core.corpus.stats import corpus_stats, format_stats

    c = results / "corpus"
    lines = []
    if (ex := _load(c / "extract_stats.json")):
        lines += [f"extract: {ex['export_rows']:,} export rows -> {ex['notes']:,} notes "
                  f"({ex['multi_part_notes']:,} multi-part)"]
        lines += [f"  rejected {n:>8,}  {r}" for r, n in ex["rejected_by_reason"].items()]
    if (cl := _load(c / "clean_stats.json")):
        lines += [f"clean: {cl['input_notes']:,} notes -> {cl['kept_notes']:,} kept"]
        for r, d in cl["dropped"].items():
            if d["total"]:
                types = ", ".join(f"{t} {n:,}" for t, n in d["by_note_type"].items())
                lines.append(f"  dropped {d['total']:>8,}  {r}  ({types})")
    for mix_stats in sorted((c / "pretrain").glob("*/mix_stats.json")):
        m = json.loads(mix_stats.read_text())
        docs = ", ".join(f"{s} {v.get('train', {}).get('documents', 0):,}+{v.get('val', {}).get('documents', 0):,}"
                         for s, v in m["sources"].items())
        excl = m.get("clinical_exclusions")
        lines.append(f"mix {m.get('mix', mix_stats.parent.name)}: train+val documents {docs}"
                     + (f"; excluded {excl}" if excl else "") + f"; leaks {sum(m['leak_check'].values())}")
        index = _load(results / "shards" / mix_stats.parent.name / "index.json")
        if index:
            for split, e in index["splits"].items():
                per = ", ".join(f"{s} {v['tokens']:,} (weight {v['weight']:.2f})" for s, v in e["sources"].items())
                lines.append(f"  {split} tokens {e['tokens']:,}: {per}")
    table_path = c / "stats" / "corpus_stats.csv"
    if table_path.is_file():
        table = pl.read_csv(table_path)
    elif (c / "clean.parquet").is_file():
        tok = tokenizer or results / "tokenizer" / "spm.model"
        table = corpus_stats(c / "clean.parquet", tok if Path(tok).is_file() else None)
    else:
        table = None
    if table is not None:
        if by:
            table = table.filter(pl.col("dimension") == by)
        lines += ["", format_stats(table)]
    if not lines:
        raise FileNotFoundError(f"{c}: no corpus outputs (run the workflow's corpus rules first)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    print(summary(Path(args.results), args.tokenizer, args.by))
    return 0
