"""Fig. K8: stratified AUROC (forest plot) of the headline model, one column per task.

Groups whose AUROC is not reported (one class, too few positives, no examples) are listed with
their status instead of disappearing, so a reader sees which subgroups could not be assessed.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import polars as pl

from lang1core.evaluate.status import NO_EXAMPLES
from lang1core.figures.common import Cell, Options, cell, own_task, rows, task_list, task_panels
from lang1core.figures.style import (
    FULL_WIDTH,
    ci_yerr,
    model_color,
    model_label,
    not_run,
    split_label,
)
from lang1core.figures.tables import Tables

ATTRIBUTE_LABELS = {"age_band": "Age", "sex": "Sex", "race": "Race", "ethnicity": "Ethnicity",
                    "region": "Region", "child": "Child/adult"}


def figK8(t: Tables, opts: Options):
    st = own_task(rows(t.with_runs("strata"), split=opts.split, kind="finetune",
                       series=opts.primary_model))
    overall = own_task(rows(t.metrics(), split=opts.split, subset="all", kind="finetune",
                            series=opts.primary_model))
    tasks = task_list(t)
    if st.is_empty():
        fig, ax = plt.subplots(figsize=(FULL_WIDTH, 2.0))
        ax.set_title(f"Stratified AUROC, {model_label(opts.primary_model)}", loc="left")
        not_run(ax, "stratified evaluation")
        return fig
    attrs = list(dict.fromkeys(st["attribute"].to_list()))
    attrs = [a for a in ATTRIBUTE_LABELS if a in attrs] + [a for a in attrs
                                                         if a not in ATTRIBUTE_LABELS]
    # One y position per (attribute, group), a gap between attributes.
    ylabels, keys, y, pos = [], [], [], 0.0
    for a in attrs:
        groups = list(dict.fromkeys(rows(st, attribute=a)["group"].to_list()))
        for g in groups:
            keys.append((a, g))
            ylabels.append(f"{ATTRIBUTE_LABELS.get(a, a)}: {g}")
            y.append(pos)
            pos += 1
        pos += 0.6
    y = np.array(y)
    fig, axes = plt.subplots(1, len(tasks), figsize=(FULL_WIDTH, 0.13 * pos + 0.9), sharey=True,
                             squeeze=False)
    axes = axes[0]
    color = model_color(opts.primary_model)
    for ax, task, d in task_panels(axes, tasks, st):
        vals, lo, hi, yy = [], [], [], []
        for (a, g), yi in zip(keys, y):
            r = rows(d, attribute=a, group=g)
            # A group another task has but this one lacks has no examples here.
            c = cell(r.row(0, named=True)) if r.height else Cell(None, None, None, NO_EXAMPLES)
            if c.value is not None:
                vals.append(c.value)
                lo.append(np.nan if c.low is None else c.low)
                hi.append(np.nan if c.high is None else c.high)
                yy.append(yi)
            else:
                ax.text(0.5, yi, c.status, va="center", ha="center", transform=ax.get_yaxis_transform(),
                        fontsize=opts.style.font_size - 2, color="#888888", style="italic")
        if vals:
            ax.errorbar(vals, yy, xerr=ci_yerr(vals, lo, hi), fmt="o", ms=2.5, color=color,
                        elinewidth=0.7, capsize=0)
        ov = overall.filter(pl.col("task") == task)["auroc"].drop_nulls()
        if ov.len():
            ax.axvline(ov[0], color=color, lw=0.6, ls=":", alpha=0.8)
        ax.axvline(0.5, color="#888888", lw=0.6, ls="--")
        ax.set_xlim(0.3, 1.03)
        ax.set_xlabel("AUROC")
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(y)
    axes[0].set_yticklabels(ylabels, fontsize=opts.style.font_size - 1)
    axes[0].set_ylim(pos - 0.6, -0.8)
    fig.suptitle(f"Stratified AUROC, {model_label(opts.primary_model)} finetuned, "
                 f"{split_label(opts.split)} (dotted: all patients)", x=0.01, ha="left",
                 fontweight="bold", fontsize=opts.style.title_size)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return fig
