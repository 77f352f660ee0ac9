"""Shared pieces of the figure functions: options, row selection, dot/bar helpers."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from matplotlib.lines import Line2D

from lang1core.evaluate.status import NOT_RUN, OK
from lang1core.figures.style import (
    Style,
    ci_yerr,
    model_color,
    model_label,
    not_run,
    order_models,
    order_tasks,
    task_label,
)

log = logging.getLogger(__name__)


@dataclass
class Options:
    """What a figure shows; mirrors the `figures` config section."""

    style: Style = field(default_factory=Style)
    split: str = "temporal_2024"  # headline test split (study: temporal test 2024)
    internal_split: str = "test"  # the internal comparison for the external site
    periods: tuple[str, ...] = ("test", "temporal", "temporal_2024")  # Fig A2's x axis
    primary_model: str = "lang1"  # model shown alone in single-model figures (5a, 5b, K8)
    probe_split: str = "test"  # split the reading-comprehension probe is scored on
    note: str | None = None  # footer on every figure, e.g. "synthetic data"


def rows(df: pl.DataFrame, **eq) -> pl.DataFrame:
    """Filter by equality; a list value means 'is in'."""
    for col, val in eq.items():
        if val is None:
            continue
        if isinstance(val, (list, tuple, set)):
            df = df.filter(pl.col(col).is_in(list(val)))
        else:
            df = df.filter(pl.col(col) == val)
    return df


def own_task(df: pl.DataFrame) -> pl.DataFrame:
    """Rows where a single-task run is evaluated on the task it was trained on."""
    return df.filter(pl.col("train_task").is_null() | (pl.col("train_task") == pl.col("task")))


def task_list(t) -> list[str]:
    """Tasks of the study present anywhere in auroc.csv (the five when it is empty): every
    figure gives each of them a panel or slot, so a task without rows reads "not run"."""
    from lang1core.figures.style import TASK_ORDER

    present = [x for x in t["auroc"]["task"].unique().to_list() if x and x != "probe"]
    return order_tasks(present) if present else list(TASK_ORDER)


class Cell(NamedTuple):
    """One figure cell: its AUROC and interval, None unless `status` is "ok"."""

    value: float | None
    low: float | None
    high: float | None
    status: str


def cell(r: dict, col: str = "auroc") -> Cell:
    """A table row (dict) as a cell; an ok row without a value reads "not run"."""
    status = r.get("status") or OK
    if status != OK or r.get(col) is None or not np.isfinite(r[col]):
        return Cell(None, None, None, status if status != OK else NOT_RUN)
    return Cell(r[col], r.get("ci_low"), r.get("ci_high"), OK)


def cells(df: pl.DataFrame, col: str = "auroc") -> list[Cell]:
    return [cell(r, col) for r in df.iter_rows(named=True)]


def value_of(df: pl.DataFrame, col: str = "auroc") -> Cell | None:
    """The first row's cell, or None when there is no row (the run was not produced)."""
    return None if df.is_empty() else cell(df.row(0, named=True), col)


def status_text(ax, x, text, color="#777777", y=0.02):
    """A non-ok cell's status, written upright at data x from the bottom of the axes: the
    labelled gap a figure draws where a bar or point would be. The x axis grows to hold x
    (a label outside the axes would stretch the saved figure)."""
    ax.dataLim.update_from_data_x(np.atleast_1d(float(x)), ignore=ax.ignore_existing_data_limits)
    ax.ignore_existing_data_limits = False
    ax.autoscale_view(scaley=False)
    return ax.text(x, y, text, transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                   rotation=90, color=color, style="italic",
                   fontsize=plt.rcParams["font.size"] - 1.5)


def status_gaps(ax, entries):
    """Label the non-ok cells of a panel's lines at their x. entries: (x, Cell, colour) over
    every series; cells sharing an x get one label ("1 positive / single class"), in the
    series' colour when they come from one series, grey otherwise."""
    at: dict[float, list[tuple[str, str]]] = {}
    for x, c, color in entries:
        if c is not None and c.status != OK:
            at.setdefault(float(x), []).append((c.status, color))
    for x, got in at.items():
        colors = {color for _, color in got}
        status_text(ax, x, " / ".join(dict.fromkeys(s for s, _ in got)),
                    colors.pop() if len(colors) == 1 else "#777777")


def status_note(ax, df: pl.DataFrame, what: str = "runs"):
    """Scatter panels: how many rows were left out and why, e.g. "not drawn: 1 positive (2)"."""
    if "status" not in df.columns:
        return None
    counts = Counter(s or NOT_RUN for s in df["status"].to_list() if s != OK)
    if not counts:
        return None
    lines = [f"{s} ({n})" for s, n in counts.most_common(3)]
    if len(counts) > 3:
        lines.append(f"other ({sum(n for _, n in counts.most_common()[3:])})")
    return ax.text(0.03, 0.97, f"{what} not drawn:\n" + "\n".join(lines), transform=ax.transAxes,
                   ha="left", va="top", color="#777777", style="italic",
                   fontsize=plt.rcParams["font.size"] - 1.5)


def grouped_points(ax, categories, series, get, *, width=0.8, bars=True, labels=None,
                   colors=None, hatches=None, alphas=None, ylim=(0.4, 1.0), chance=0.5):
    """Grouped bars (or dots) with CI whiskers: x = categories, one member per series.

    get(category, series) -> a Cell (value_of) or None. A member without a row leaves a gap
    ("not run" when the whole category has none); a member whose status is not ok leaves a
    gap labelled with its status ("1 positive", "single class"). Returns the legend handles
    of every series with a row (a series drawn only as labelled gaps keeps its legend entry).
    """
    n = max(len(series), 1)
    w = width / n
    handles = {}
    for j, s in enumerate(series):
        xs, vs, lo, hi = [], [], [], []
        color = (colors or {}).get(s, model_color(s))
        for i, c in enumerate(categories):
            got = get(c, s)
            if got is None:
                continue
            x = i - width / 2 + w * (j + 0.5)
            if got.value is None:
                status_text(ax, x, got.status, color)
                continue
            xs.append(x)
            vs.append(got.value)
            lo.append(np.nan if got.low is None else got.low)
            hi.append(np.nan if got.high is None else got.high)
        label = (labels or {}).get(s, model_label(s))
        if not xs:
            if any(get(c, s) is not None for c in categories):  # only labelled gaps: keep
                hatch = (hatches or {}).get(s)
                handles[s] = (plt.Rectangle((0, 0), 1, 1, facecolor="white" if hatch else color,
                                            edgecolor=color, hatch=hatch, label=label)
                              if bars else Line2D([], [], ls="", marker="o", color=color, label=label))
            continue
        err = ci_yerr(vs, lo, hi)
        if bars:
            h = ax.bar(xs, np.asarray(vs) - ylim[0], bottom=ylim[0], width=w * 0.9,
                       color=color, edgecolor="white" if not (hatches or {}).get(s) else color,
                       linewidth=0.4, hatch=(hatches or {}).get(s),
                       alpha=(alphas or {}).get(s, 1.0), label=label, zorder=2)
            if (hatches or {}).get(s):
                for patch in h:
                    patch.set_facecolor("white")
            ax.errorbar(xs, vs, yerr=err, fmt="none", ecolor="#222222", elinewidth=0.6,
                        capsize=1.2, zorder=3)
        else:
            h = ax.errorbar(xs, vs, yerr=err, fmt="o", color=color, ecolor=color,
                            elinewidth=0.8, capsize=1.2, label=label, zorder=3)
        handles[s] = h
    for i, c in enumerate(categories):
        if all(get(c, s) is None for s in series):
            status_text(ax, i, NOT_RUN)
    ax.set_xticks(range(len(categories)))
    ax.set_xlim(-0.6, len(categories) - 0.4)
    ax.set_ylim(*ylim)
    if chance is not None and ylim[0] < chance:
        ax.axhline(chance, color="#888888", lw=0.6, ls="--", zorder=1)
    ax.grid(axis="x", visible=False)
    return handles


def ylim_for(values, floor=0.4, pad=0.03):
    """AUROC axis range: from floor (or lower if needed) up to just above the largest value."""
    vals = [v for v in values if v is not None and np.isfinite(v)]
    if not vals:
        return (floor, 1.0)
    lo = min(floor, np.floor((min(vals) - pad) * 20) / 20)
    hi = min(1.0, np.ceil((max(vals) + pad) * 20) / 20)
    return (lo, max(hi, lo + 0.1))


def legend_below(fig, handles, labels, ncol=None):
    if not handles:
        return
    fig.legend(handles, labels, loc="lower center", ncol=ncol or min(len(handles), 6),
               bbox_to_anchor=(0.5, -0.01), handlelength=1.4, columnspacing=1.2)


def series_in(df: pl.DataFrame) -> list[str]:
    return order_models(df["series"].drop_nulls().unique().to_list()) if "series" in df.columns \
        and df.height else []


def subplots(n, ncols=None, width=None, height=1.9, sharey=True):
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width or 7.2, height * nrows),
                             sharey=sharey, squeeze=False)
    flat = axes.ravel().tolist()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def data_note(source: str | None, note: str | None = None) -> str | None:
    """Footer text: the configured note, else 'synthetic data' for the synthetic hospital."""
    if note:
        return note
    return "synthetic data" if source == "synthetic" else None


def options_from_config(section: dict | None, source: str | None = None) -> Options:
    """Options from the workflow's `figures` config section (a plain dict)."""
    from lang1core.figures.style import style_from_config

    section = dict(section or {})
    kw = {k: section[k] for k in ("split", "internal_split", "primary_model", "probe_split")
          if section.get(k) is not None}
    if section.get("periods"):
        kw["periods"] = tuple(section["periods"])
    return Options(style=style_from_config(section), note=data_note(source, section.get("note")),
                   **kw)


def task_panels(axes, tasks, df: pl.DataFrame, what: str = ""):
    """Yield (axis, task, the task's rows of df) per panel, each titled with its task; a
    panel whose task has no rows says "not run" and is skipped."""
    for ax, task in zip(axes, tasks):
        ax.set_title(task_label(task), loc="left")
        d = rows(df, task=task)
        if d.is_empty():
            not_run(ax, what)
            continue
        yield ax, task, d
