"""Figures over tokens and examples: 3a, 3b (pretraining trajectory), 4a, 4b, 4c (scaling)."""

from __future__ import annotations

import logging

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import polars as pl

from lang1core.figures.common import (
    Options,
    cells,
    legend_below,
    own_task,
    rows,
    series_in,
    status_gaps,
    status_note,
    subplots,
    task_list,
    task_panels,
)
from lang1core.figures.style import (
    FULL_WIDTH,
    HALF_WIDTH,
    ci_yerr,
    model_color,
    model_label,
    not_run,
    split_label,
    task_label,
    tokens_axis,
)
from lang1core.figures.tables import Tables

log = logging.getLogger(__name__)


def _line_with_band(ax, x, y, lo, hi, color, style, label=None, marker="o"):
    order = np.argsort(x)
    x, y, lo, hi = (np.asarray(a, dtype=float)[order] for a in (x, y, lo, hi))
    (h,) = ax.plot(x, y, marker=marker, color=color, label=label, ms=style.marker_size,
                   lw=style.line_width)
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.sum() >= 2:
        ax.fill_between(x[ok], lo[ok], hi[ok], color=color, alpha=style.ci_alpha, lw=0)
    elif ok.any():
        ax.errorbar(x[ok], y[ok], yerr=[y[ok] - lo[ok], hi[ok] - y[ok]], fmt="none",
                    ecolor=color, elinewidth=0.7)
    return h


def _trajectory(df: pl.DataFrame) -> pl.DataFrame:
    """Snapshot zero-shot runs plus each base model's final zero-shot run, with token counts."""
    d = rows(df, kind=["trajectory", "zeroshot"]).filter(pl.col("pretrain_tokens").is_not_null())
    dropped = rows(df, kind=["trajectory", "zeroshot"]).height - d.height
    if dropped:
        log.warning("trajectory: %d rows without pretrain_tokens dropped", dropped)
    # The final model is usually also the last snapshot: keep one point per token count.
    return d.sort("kind", descending=True).unique(
        subset=["series", "task", "split", "subset", "pretrain_tokens"], keep="first",
        maintain_order=True)


def _gap_entries(d: pl.DataFrame, x: str) -> list:
    """(x, cell, series colour) of every row, for status_gaps."""
    return [(xv, c, model_color(s)) for xv, c, s in zip(d[x], cells(d), d["series"])]


def _tokens_axis(ax, values, xlabel="Pretraining tokens"):
    tokens_axis(ax, list(values), xlabel)


def fig3a(t: Tables, opts: Options):
    """Reading-comprehension probe score across pretraining tokens, per base model."""
    df = _trajectory(rows(t.metrics(), task="probe", subset="all"))
    fig, ax = plt.subplots(figsize=(HALF_WIDTH, 2.4))
    ax.set_title("Reading-comprehension probe", loc="left")
    if df.is_empty():
        not_run(ax, "probe")
        return fig
    splits = df["split"].unique().to_list()
    split = opts.probe_split if opts.probe_split in splits else sorted(splits)[0]
    df = rows(df, split=split)
    use_acc = "accuracy" in df.columns and df["accuracy"].drop_nulls().len() > 0
    for s in series_in(df):
        d = rows(df, series=s)
        if use_acc:
            y = d["accuracy"].to_numpy()
            nan = np.full(len(y), np.nan)
            _line_with_band(ax, d["pretrain_tokens"], y, nan, nan, model_color(s), opts.style,
                            model_label(s))
        else:
            _line_with_band(ax, d["pretrain_tokens"], d["auroc"], d["ci_low"], d["ci_high"],
                            model_color(s), opts.style, model_label(s))
    if not use_acc:  # accuracy is defined whatever the classes; AUROC gaps say why
        status_gaps(ax, _gap_entries(df, "pretrain_tokens"))
    _tokens_axis(ax, df["pretrain_tokens"])
    ax.set_title(f"Reading-comprehension probe, {split_label(split)}", loc="left")
    ax.set_ylabel(f"Probe {'accuracy' if use_acc else 'AUROC'}")
    ax.legend(loc="lower right")
    return fig


def fig3b(t: Tables, opts: Options):
    """Zero-shot task AUROC across pretraining tokens (snapshots), one panel per task."""
    df = _trajectory(rows(t.metrics(), split=opts.split, subset="all"))
    df = df.filter(pl.col("task") != "probe")
    tasks = task_list(t)
    fig, axes = subplots(len(tasks), width=FULL_WIDTH, height=1.9)
    handles = {}
    for ax, task, d in task_panels(axes, tasks, df):
        for s in series_in(d):
            e = rows(d, series=s)
            handles[s] = _line_with_band(ax, e["pretrain_tokens"], e["auroc"], e["ci_low"],
                                         e["ci_high"], model_color(s), opts.style)
        status_gaps(ax, _gap_entries(d, "pretrain_tokens"))
        ax.axhline(0.5, color="#888888", lw=0.6, ls="--")
        _tokens_axis(ax, d["pretrain_tokens"], "Pretraining tokens")
    axes[0].set_ylabel(f"Zero-shot AUROC ({split_label(opts.split)})")
    legend_below(fig, list(handles.values()), [model_label(s) for s in handles])
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def fig4a(t: Tables, opts: Options):
    """AUROC against total tokens seen (pretraining + finetuning), finetuned runs."""
    df = own_task(rows(t.metrics(), split=opts.split, subset="all",
                       kind=["finetune", "joint", "scratch", "efficiency"]))
    df = df.with_columns((pl.col("pretrain_tokens").fill_null(0)
                          + pl.col("finetune_tokens").fill_null(0)).alias("total"))
    df = df.filter(pl.col("total") > 0)
    tasks = task_list(t)
    fig, axes = subplots(len(tasks), width=FULL_WIDTH, height=1.9)
    handles = {}
    markers = {"finetune": "o", "joint": "s", "scratch": "^", "efficiency": "."}
    for ax, task, d in task_panels(axes, tasks, df):
        for s in series_in(d):
            for kind, m in markers.items():
                e = rows(d, series=s, kind=kind)
                if e.is_empty():
                    continue
                h = ax.errorbar(e["total"], e["auroc"],
                                yerr=ci_yerr(e["auroc"], e["ci_low"], e["ci_high"]),
                                fmt=m, color=model_color(s), ms=3.5 if m != "." else 5,
                                elinewidth=0.5, capsize=0, alpha=0.9)
                handles.setdefault(s, h)
        status_gaps(ax, _gap_entries(d, "total"))
        _tokens_axis(ax, d["total"], "Total tokens")
    axes[0].set_ylabel(f"AUROC ({split_label(opts.split)})")
    legend_below(fig, list(handles.values()), [model_label(s) for s in handles])
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def fig4b(t: Tables, opts: Options):
    """Data efficiency: AUROC against finetuning examples, clinical vs generalist base."""
    m = own_task(rows(t.metrics(), split=opts.split, subset="all",
                      kind=["efficiency", "finetune"]))
    m = m.filter(pl.col("n_train").is_not_null() & (pl.col("n_train") > 0))
    # The full finetune run is the sweep's last point unless the sweep already has that size.
    m = m.sort("kind").unique(subset=["series", "task", "n_train"], keep="first",
                              maintain_order=True)
    tasks = task_list(t)
    fig, axes = subplots(len(tasks), width=FULL_WIDTH, height=1.9)
    handles = {}
    for ax, task in zip(axes, tasks):
        ax.set_title(task_label(task), loc="left")
        d = rows(m, task=task)
        if rows(d, kind="efficiency").is_empty():
            not_run(ax, "efficiency runs")
            continue
        for s in series_in(rows(d, kind="efficiency")):
            e = rows(d, series=s)
            handles[s] = _line_with_band(ax, e["n_train"], e["auroc"], e["ci_low"],
                                         e["ci_high"], model_color(s), opts.style)
        status_gaps(ax, _gap_entries(rows(d, series=series_in(rows(d, kind="efficiency"))), "n_train"))
        tokens_axis(ax, d["n_train"].to_list(), "Finetuning examples")
    axes[0].set_ylabel(f"AUROC ({split_label(opts.split)})")
    legend_below(fig, list(handles.values()), [model_label(s) for s in handles])
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def _key(color="#777777", marker="o", ms=4):
    from matplotlib.lines import Line2D

    return Line2D([], [], ls="", marker=marker, color=color, ms=ms)


def _spearman(x, y) -> float:
    if len(x) < 3:
        return float("nan")
    rx = np.argsort(np.argsort(x))
    ry = np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def fig4c(t: Tables, opts: Options):
    """Question-answer perplexity against AUROC: lower perplexity, better predictions?"""
    df = own_task(rows(t.metrics(), split=opts.split, subset="all"))
    df = df.filter(pl.col("qa_ppl").is_not_null() & (pl.col("task") != "probe"))
    tasks = task_list(t)
    fig, axes = subplots(len(tasks), width=FULL_WIDTH, height=1.9)
    handles = {}
    markers = {"zeroshot": "o", "trajectory": ".", "finetune": "s", "joint": "D",
               "efficiency": "^", "scratch": "v", "kshot": "P", "tfidf": "X"}
    kind_names = {"zeroshot": "zero-shot", "trajectory": "snapshot", "finetune": "finetuned",
                  "joint": "multi-task", "efficiency": "fewer examples", "scratch": "scratch",
                  "kshot": "k-shot", "tfidf": "TF-IDF"}
    kinds_seen: set[str] = set()
    for ax, task, d in task_panels(axes, tasks, df, "perplexity"):
        status_note(ax, d)
        d = d.filter(pl.col("auroc").is_not_null())
        if d.is_empty():
            ax.set_xticks([])
            continue
        for s in series_in(d):
            e = rows(d, series=s)
            for kind in e["kind"].unique().to_list():
                k = rows(e, kind=kind)
                h = ax.scatter(k["qa_ppl"], k["auroc"], s=10, marker=markers.get(kind, "o"),
                               color=model_color(s), alpha=0.85, lw=0)
                handles.setdefault(s, h)
                kinds_seen.add(kind)
        rho = _spearman(np.log(d["qa_ppl"].to_numpy()), d["auroc"].to_numpy())
        if np.isfinite(rho):
            ax.text(0.97, 0.96, f"ρ = {rho:.2f}", transform=ax.transAxes,
                    ha="right", va="top", fontsize=opts.style.font_size - 1)
        ppl = d["qa_ppl"].to_numpy()
        if ppl.max() / ppl.min() > 10:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(mticker.NullFormatter())
            ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _p: f"{v:g}"))
        else:
            ax.xaxis.set_major_locator(mticker.MaxNLocator(4))
        ax.set_xlabel("QA perplexity")
    axes[0].set_ylabel(f"AUROC ({split_label(opts.split)})")
    series = [s for s in handles]
    kinds = [k for k in markers if k in kinds_seen and k not in ("tfidf", "scratch")]
    legend_below(fig, [_key(model_color(s)) for s in series] + [_key(marker=markers[k])
                                                                for k in kinds],
                 [model_label(s) for s in series] + [kind_names[k] for k in kinds],
                 ncol=min(len(series) + len(kinds), 8))
    fig.set_size_inches(FULL_WIDTH, 2.2)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    return fig
