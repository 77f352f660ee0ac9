"""Dataset tables B1-B7 (study Appendix B): each CSV rendered as a figure table and Markdown."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import polars as pl

from lang1core.figures.style import FULL_WIDTH, Style, not_run

MAX_ROWS = 60  # longer tables are cut in the figure (the Markdown keeps every row)


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.0f}" if v == int(v) and abs(v) >= 1000 else f"{v:,.3g}" if abs(v) < 1 \
            else f"{v:,.1f}" if v != int(v) else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def read_dataset_table(path: str | Path | None) -> pl.DataFrame:
    if path is None or not Path(path).exists() or Path(path).stat().st_size == 0:
        return pl.DataFrame()
    return pl.read_csv(path, infer_schema_length=None)


def to_markdown(df: pl.DataFrame, title: str) -> str:
    if df.is_empty():
        return f"## {title}\n\n_not run_\n"
    head = "| " + " | ".join(df.columns) + " |"
    sep = "|" + "|".join("---:" if df[c].dtype.is_numeric() else "---" for c in df.columns) + "|"
    body = ["| " + " | ".join(_fmt(v) for v in r) + " |" for r in df.iter_rows()]
    return "\n".join([f"## {title}", "", head, sep, *body, ""])


def table_figure(df: pl.DataFrame, title: str, style: Style):
    n = min(df.height, MAX_ROWS)
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 0.45 + 0.17 * max(n + 1, 3)))
    ax.set_title(title, loc="left")
    if df.is_empty():
        not_run(ax, "dataset table")
        return fig
    ax.axis("off")
    cells = [[_fmt(v) for v in r] for r in df.head(n).iter_rows()]
    tab = ax.table(cellText=cells, colLabels=df.columns, loc="upper left", cellLoc="right",
                   colLoc="right", edges="horizontal")
    tab.auto_set_font_size(False)
    tab.set_fontsize(style.font_size - 0.5)
    tab.scale(1, 1.1)
    for (r, c), cell in tab.get_celld().items():
        cell.set_linewidth(0.4 if r in (0, 1) else 0)
        if r == 0:
            cell.set_text_props(fontweight="bold")
        if not df[df.columns[c]].dtype.is_numeric():
            cell.set_text_props(ha="left")
            cell._loc = "left"
    if df.height > n:
        ax.text(0, -0.02, f"... {df.height - n} more rows in the Markdown table",
                transform=ax.transAxes, fontsize=style.font_size - 1, color="#666666")
    return fig
