"""Dataset tables B1-B7 (study Appendix B): each CSV rendered as a figure table and Markdown."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import polars as pl

from lang1core.figures.style import FULL_WIDTH, Style, not_run

MAX_ROWS = 60  # longer tables are cut in the figure (the Markdown keeps every row)


def _decimals(col: pl.Series) -> int:
    """Decimals shown for a float column: none for whole numbers, 1 for values >= 1 (shares
    in %, means), 3 for fractions."""
    v = col.drop_nulls()
    if v.len() == 0 or (v == v.round(0)).all():
        return 0
    return 1 if v.abs().min() >= 1 else 3


def _formatter(col: pl.Series):
    if col.dtype.is_float():
        d = _decimals(col)
        return lambda v: "" if v is None else f"{v:,.{d}f}"
    if col.dtype.is_integer():
        return lambda v: "" if v is None else f"{v:,}"
    return lambda v: "" if v is None else str(v)


def _cells(df: pl.DataFrame) -> list[list[str]]:
    fmts = [_formatter(df[c]) for c in df.columns]
    return [[f(v) for f, v in zip(fmts, r)] for r in df.iter_rows()]


def read_dataset_table(path: str | Path | None) -> pl.DataFrame:
    if path is None or not Path(path).exists() or Path(path).stat().st_size == 0:
        return pl.DataFrame()
    return pl.read_csv(path, infer_schema_length=None)


def to_markdown(df: pl.DataFrame, title: str) -> str:
    if df.is_empty():
        return f"## {title}\n\n_not run_\n"
    head = "| " + " | ".join(df.columns) + " |"
    sep = "|" + "|".join("---:" if df[c].dtype.is_numeric() else "---" for c in df.columns) + "|"
    body = ["| " + " | ".join(r) + " |" for r in _cells(df)]
    return "\n".join([f"## {title}", "", head, sep, *body, ""])


def table_figure(df: pl.DataFrame, title: str, style: Style):
    n = min(df.height, MAX_ROWS)
    width = min(FULL_WIDTH, 1.0 + 1.1 * max(len(df.columns), 2))
    fig, ax = plt.subplots(figsize=(width, 0.4 + 0.16 * max(n + 1, 3)))
    ax.set_title(title, loc="left")
    if df.is_empty():
        not_run(ax, "dataset table")
        return fig
    ax.axis("off")
    cells = _cells(df.head(n))
    tab = ax.table(cellText=cells, colLabels=[c.replace("_", " ") for c in df.columns],
                   bbox=(0, 0, 1, 1), cellLoc="right", colLoc="right")
    tab.auto_set_font_size(False)
    tab.set_fontsize(style.font_size - 0.5)
    # Booktabs look: a rule above and below the header and one under the last row.
    for (r, c), cell in tab.get_celld().items():
        cell.set_linewidth(0.6)
        cell.visible_edges = "TB" if r == 0 else ("B" if r == n else "")
        if r == 0:
            cell.set_text_props(fontweight="bold")
        if not df[df.columns[c]].dtype.is_numeric():
            cell._loc = "left"
            cell.set_text_props(ha="left")
    if df.height > n:
        ax.text(0, -0.02, f"... {df.height - n} more rows in the Markdown table",
                transform=ax.transAxes, fontsize=style.font_size - 1, color="#666666")
    return fig
