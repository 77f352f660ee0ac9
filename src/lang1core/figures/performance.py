"""Headline performance figures: 2a, 2b, D4 (bars per task), A2, L9, 5b, M10."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import polars as pl

from lang1core.evaluate.status import OK
from lang1core.figures.common import (
    Options,
    grouped_points,
    legend_below,
    own_task,
    rows,
    series_in,
    status_gaps,
    status_note,
    subplots,
    task_list,
    task_panels,
    value_of,
    ylim_for,
)
from lang1core.figures.style import (
    FULL_WIDTH,
    ci_yerr,
    model_color,
    model_label,
    not_run,
    order_models,
    split_label,
    task_label,
)
from lang1core.figures.tables import Tables

FINETUNED = ("finetune", "joint", "scratch", "tfidf")


def _task_axis(ax, tasks):
    ax.set_xticklabels([task_label(t) for t in tasks], rotation=0)
    ax.set_ylabel("AUROC")


def _headline(df: pl.DataFrame, opts: Options) -> pl.DataFrame:
    return rows(df, split=opts.split, subset="all")


def fig2a(t: Tables, opts: Options):
    """Zero-shot AUROC of every pretrained model on every task (headline split)."""
    df = _headline(rows(t.metrics(), kind="zeroshot"), opts)
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 2.4))
    ax.set_title(f"Zero-shot AUROC, {split_label(opts.split)}", loc="left")
    models = order_models(df["model"].unique().to_list())
    if df.is_empty():
        not_run(ax, "zero-shot evaluation")
        return fig
    tasks = task_list(t)
    lo, hi = ylim_for(df["ci_high"].to_list() + df["auroc"].to_list())
    # Headroom for the legend inside the axes.
    h = grouped_points(ax, tasks, models, lambda c, s: value_of(rows(df, task=c, model=s)),
                       ylim=(lo, min(1.0, hi + 0.06) if hi < 1.0 else 1.06))
    _task_axis(ax, tasks)
    ax.legend(h.values(), [model_label(m) for m in h], loc="upper right", ncol=len(h))
    return fig


def _finetuned_series(df: pl.DataFrame):
    """(key, label, colour, hatch, frame) for each bar of Fig. 2b."""
    out = []
    ft = own_task(rows(df, kind="finetune"))
    for base in order_models(ft["series"].unique().to_list()):
        out.append((f"ft:{base}", f"{model_label(base)} finetuned", model_color(base), None,
                    rows(ft, series=base)))
    joint = rows(df, kind="joint")
    for base in order_models(joint["series"].unique().to_list()):
        out.append((f"joint:{base}", f"{model_label(base)} multi-task", model_color(base), "////",
                    rows(joint, series=base)))
    zs = rows(df, kind="zeroshot")
    if zs.height:
        best = zs.sort("auroc", descending=True, nulls_last=True).unique(
            subset=["task"], keep="first", maintain_order=True)
        out.append(("zs", "Best zero-shot", "#BBBBBB", None, best))
    for kind in ("scratch", "tfidf"):
        k = own_task(rows(df, kind=kind))
        if k.height:
            label = model_label(kind)
            out.append((kind, label, model_color(kind), "...." if kind == "tfidf" else None, k))
    return out


def fig2b(t: Tables, opts: Options):
    """Finetuned models against the best zero-shot model and the baselines, per task."""
    df = _headline(t.metrics(), opts)
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 2.5))
    ax.set_title(f"Finetuned vs zero-shot and baselines, {split_label(opts.split)}", loc="left")
    series = _finetuned_series(df)
    if not series:
        not_run(ax, "finetuning")
        return fig
    tasks = task_list(t)
    frames = {s[0]: s[4] for s in series}
    vals = pl.concat([s[4].select("auroc", "ci_high") for s in series])
    h = grouped_points(ax, tasks, [s[0] for s in series],
                       lambda c, k: value_of(rows(frames[k], task=c)),
                       labels={s[0]: s[1] for s in series}, colors={s[0]: s[2] for s in series},
                       hatches={s[0]: s[3] for s in series},
                       ylim=ylim_for(vals["auroc"].to_list() + vals["ci_high"].to_list()))
    _task_axis(ax, tasks)
    labels = {s[0]: s[1] for s in series}
    ax.legend(h.values(), [labels[k] for k in h], loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def figD4(t: Tables, opts: Options):
    """Pretraining ablations: clinical+general (Lang1) vs general only vs clinical only."""
    df = _headline(t.metrics(), opts)
    bases = ["lang1", "generalist", "clinical_only"]
    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.4), sharey=True)
    for ax, (kind, title) in zip(axes, [("zeroshot", "Zero-shot"), ("finetune", "Finetuned")]):
        ax.set_title(title, loc="left")
        d = own_task(rows(df, kind=kind, series=bases))
        if d.is_empty():
            not_run(ax, f"{title.lower()} ablation runs")
            continue
        tasks = task_list(t)
        present = [b for b in bases if b in d["series"].to_list()]
        grouped_points(ax, tasks, present, lambda c, s: value_of(rows(d, task=c, series=s)),
                       ylim=(0.4, 1.0))
        ax.set_xticklabels([task_label(x) for x in tasks], rotation=30, ha="right")
        ax.set_ylabel("AUROC")
    handles = [plt.Rectangle((0, 0), 1, 1, color=model_color(b)) for b in bases]
    legend_below(fig, handles, [model_label(b) for b in bases])
    fig.suptitle(f"Pretraining-data ablations, {split_label(opts.split)}", x=0.01, ha="left",
                 fontweight="bold", fontsize=opts.style.title_size)
    fig.tight_layout(rect=(0, 0.07, 1, 1.0), h_pad=0)
    fig.subplots_adjust(top=0.84)
    return fig


def _best_finetuned(df: pl.DataFrame) -> pl.DataFrame:
    """Single-task finetuned rows (own task) plus TF-IDF, one series per base model."""
    return own_task(rows(df, kind=["finetune", "tfidf"]))


def figA2(t: Tables, opts: Options):
    """AUROC across test periods (internal test, temporal 2021, temporal 2024), per task."""
    df = rows(_best_finetuned(t.metrics()), subset="all", split=list(opts.periods))
    tasks = task_list(t)
    fig, axes = subplots(len(tasks), width=FULL_WIDTH, height=2.0)
    xs = np.arange(len(opts.periods))
    handles = {}
    for ax, task, d in task_panels(axes, tasks, df):
        series = series_in(d)
        gaps = []
        for j, s in enumerate(series):
            v = [value_of(rows(d, series=s, split=p)) for p in opts.periods]
            x = xs + (j - (len(series) - 1) / 2) * 0.08
            y, lo, hi = (np.array([np.nan if a is None or a[i] is None else a[i] for a in v])
                         for i in range(3))
            handles[s] = ax.errorbar(x, y, yerr=ci_yerr(y, lo, hi), fmt="-o",
                                     color=model_color(s), capsize=1.2, elinewidth=0.7)
            gaps += [(xs[i], c, model_color(s)) for i, c in enumerate(v)]
        status_gaps(ax, gaps)
        ax.set_xticks(xs)
        ax.set_xticklabels([split_label(p).replace(" (2013-21)", "") for p in opts.periods],
                           rotation=35, ha="right")
        ax.set_xlim(-0.4, len(xs) - 0.6)
    axes[0].set_ylabel("AUROC")
    legend_below(fig, list(handles.values()), [model_label(s) for s in handles])
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def figL9(t: Tables, opts: Options):
    """All test patients vs only patients never seen in training (headline split)."""
    df = rows(_best_finetuned(t.metrics()), split=opts.split)
    fig, ax = plt.subplots(figsize=(FULL_WIDTH, 2.4))
    ax.set_title(f"With and without patients seen in training, {split_label(opts.split)}",
                 loc="left")
    if rows(df, subset="unseen").is_empty():
        not_run(ax, "unseen-patient subset")
        return fig
    tasks = task_list(t)
    series = series_in(df)
    keys = [(s, sub) for s in series for sub in ("all", "unseen")]
    h = grouped_points(ax, tasks, keys,
                       lambda c, k: value_of(rows(df, task=c, series=k[0], subset=k[1])),
                       bars=True, colors={k: model_color(k[0]) for k in keys},
                       hatches={k: ("////" if k[1] == "unseen" else None) for k in keys},
                       labels={k: f"{model_label(k[0])}, {'all' if k[1] == 'all' else 'unseen only'}"
                               for k in keys},
                       ylim=ylim_for(df["auroc"].to_list() + df["ci_high"].to_list()))
    _task_axis(ax, tasks)
    labels = {k: f"{model_label(k[0])}, {'all patients' if k[1] == 'all' else 'unseen only'}"
              for k in keys}
    ax.legend(h.values(), [labels[k] for k in h], loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def fig5b(t: Tables, opts: Options):
    """Headline model: internal test vs the held-out external site, per task."""
    df = rows(_best_finetuned(t.metrics()), subset="all",
              split=[opts.internal_split, "external"])
    fig, ax = plt.subplots(figsize=(FULL_WIDTH * 0.62, 2.4))
    ax.set_title(f"{model_label(opts.primary_model)}: internal vs external site", loc="left")
    d = rows(df, series=opts.primary_model)
    if rows(d, split="external").is_empty():
        not_run(ax, "external-site evaluation")
        return fig
    tasks = task_list(t)
    c = model_color(opts.primary_model)
    splits = [opts.internal_split, "external"]
    h = grouped_points(ax, tasks, splits, lambda k, s: value_of(rows(d, task=k, split=s)),
                       colors={opts.internal_split: c, "external": c},
                       hatches={"external": "////"},
                       labels={opts.internal_split: f"Internal: {split_label(opts.internal_split)}",
                               "external": "External site"},
                       ylim=ylim_for(d["auroc"].to_list() + d["ci_high"].to_list()))
    _task_axis(ax, tasks)
    ax.set_xticklabels([task_label(x) for x in tasks], rotation=25, ha="right")
    ax.legend(h.values(), [f"Internal: {split_label(opts.internal_split)}", "External site"],
              loc="upper right", ncol=2)
    return fig


def figM10(t: Tables, opts: Options):
    """Every run: AUROC at the external site against the internal test, one panel per task."""
    # The study's runs (not every snapshot or data-efficiency point): zero-shot, finetuned on
    # the task, multi-task, and the baselines.
    df = own_task(rows(t.metrics(), subset="all",
                       kind=["zeroshot", "kshot", "finetune", "joint", "scratch", "tfidf"]))
    internal = rows(df, split=opts.internal_split).select(
        "model", "recipe", "task", "series", "kind", pl.col("auroc").alias("x"),
        pl.col("ci_low").alias("xlo"), pl.col("ci_high").alias("xhi"),
        pl.col("status").alias("x_status"))
    external = rows(df, split="external").select(
        "model", "recipe", "task", pl.col("auroc").alias("y"), pl.col("ci_low").alias("ylo"),
        pl.col("ci_high").alias("yhi"), pl.col("status").alias("y_status"))
    both = internal.join(external, on=["model", "recipe", "task"], how="inner").with_columns(
        status=pl.when(pl.col("x_status") != OK).then(pl.col("x_status"))
        .otherwise(pl.col("y_status")))
    tasks = task_list(t)
    fig, axes = subplots(len(tasks), width=FULL_WIDTH, height=1.85, sharey=False)
    handles = {}
    for ax, task, d in task_panels(axes, tasks, both):
        status_note(ax, d)
        d = d.drop_nulls(["x", "y"])
        if d.is_empty():
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        lo = min(d["x"].min(), d["y"].min()) - 0.03
        hi = min(1.0, max(d["x"].max(), d["y"].max()) + 0.03)
        ax.plot([lo, hi], [lo, hi], color="#888888", lw=0.6, ls="--", zorder=1)
        for s in series_in(d):
            e = rows(d, series=s)
            handles[s] = ax.errorbar(
                e["x"], e["y"],
                xerr=_err(e["x"], e["xlo"], e["xhi"]), yerr=_err(e["y"], e["ylo"], e["yhi"]),
                fmt="o", ms=3, color=model_color(s), ecolor=model_color(s) + "66",
                elinewidth=0.5, capsize=0)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel(f"AUROC, {split_label(opts.internal_split).split(' (')[0].lower()}")
    axes[0].set_ylabel("AUROC, external site")
    legend_below(fig, list(handles.values()), [model_label(s) for s in handles])
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def _err(v, lo, hi):
    return ci_yerr(v.to_numpy(), lo.to_numpy(), hi.to_numpy())
