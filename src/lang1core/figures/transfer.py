"""Cross-task transfer heatmaps: 5a (headline model) and C3 (every model and test split).

A single-task finetuned model (recipe = its training task) predicts all five tasks, so row
"trained on X" and column "evaluated on Y" is the AUROC of the X-model on task Y.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import polars as pl

from lang1core.evaluate.status import NOT_RUN
from lang1core.figures.common import Options, rows, task_list, value_of
from lang1core.figures.style import (
    FULL_WIDTH,
    HALF_WIDTH,
    model_label,
    not_run,
    order_models,
    split_label,
    task_label,
)
from lang1core.figures.tables import Tables

CMAP = "viridis"
VMIN = 0.5
SHORT = {"readmission": "Readm.", "mortality": "Mortality", "los": "LOS", "cci": "CCI",
         "denial": "Denial"}


def _vmax(values) -> float:
    """Top of the colour scale: the largest AUROC rounded up to 0.05 (at least 0.8), shared by
    every panel of a figure so colours compare across panels."""
    v = [x for x in values if x is not None and np.isfinite(x)]
    return float(max(0.8, np.ceil(max(v, default=0.8) * 20) / 20))


def _matrix(df: pl.DataFrame, tasks: list[str]):
    """Rows: training task (then multi-task and zero-shot when present); columns: eval task."""
    row_keys = [("finetune", x) for x in tasks if rows(df, kind="finetune", train_task=x).height]
    for kind in ("joint", "zeroshot"):
        if rows(df, kind=kind).height:
            row_keys.append((kind, None))
    mat = np.full((len(row_keys), len(tasks)), np.nan)
    status = np.full(mat.shape, NOT_RUN, dtype=object)  # what an empty cell says
    for i, (kind, train) in enumerate(row_keys):
        r = rows(df, kind=kind, train_task=train) if train else rows(df, kind=kind)
        for j, task in enumerate(tasks):
            c = value_of(rows(r, task=task))
            if c is not None:
                status[i, j] = c.status
                if c.value is not None:
                    mat[i, j] = c.value
    labels = [task_label(tr) if k == "finetune" else {"joint": "Multi-task",
                                                      "zeroshot": "Zero-shot"}[k]
              for k, tr in row_keys]
    return mat, labels, row_keys, status


def _heatmap(ax, mat, row_labels, col_labels, fontsize, vmax, status, annotate=True):
    cmap = plt.get_cmap(CMAP).with_extremes(bad="#EEEEEE")  # cells without an AUROC: grey
    im = ax.imshow(np.ma.masked_invalid(mat), cmap=cmap, vmin=VMIN, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(col_labels)))
    ax.set_xticklabels(col_labels, rotation=35, ha="right")
    ax.set_yticks(range(len(row_labels)))
    ax.set_yticklabels(row_labels)
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.tick_params(length=0)
    if annotate:
        for i in range(mat.shape[0]):
            for j in range(mat.shape[1]):
                v = mat[i, j]
                if np.isfinite(v):
                    dark = (v - VMIN) / (vmax - VMIN) < 0.6
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=fontsize,
                            color="white" if dark else "black")
                else:  # a labelled gap: why this cell has no AUROC, on two lines to fit
                    ax.text(j, i, status[i, j].replace(" ", "\n", 1), ha="center",
                            va="center", fontsize=fontsize - 0.5, color="#555555",
                            style="italic", linespacing=0.9)
    n_ft = sum(1 for lbl in row_labels if lbl not in ("Multi-task", "Zero-shot"))
    if 0 < n_ft < len(row_labels):
        ax.axhline(n_ft - 0.5, color="white", lw=1.5)
    return im


def _transfer_rows(t: Tables, model: str | None, split: str) -> pl.DataFrame:
    df = rows(t.metrics(), split=split, subset="all", kind=["finetune", "joint", "zeroshot"])
    return rows(df, series=model) if model else df


def fig5a(t: Tables, opts: Options):
    """Transfer heatmap of the headline model on the headline split."""
    df = _transfer_rows(t, opts.primary_model, opts.split)
    fig, ax = plt.subplots(figsize=(HALF_WIDTH + 0.5, 2.9))
    ax.set_title(f"{model_label(opts.primary_model)}: transfer, {split_label(opts.split)}",
                 loc="left")
    if rows(df, kind="finetune").is_empty():
        not_run(ax, "single-task finetuning")
        return fig
    tasks = task_list(t)
    mat, labels, _, status = _matrix(df, tasks)
    im = _heatmap(ax, mat, labels, [task_label(x) for x in tasks], opts.style.font_size - 0.5,
                  _vmax(mat.ravel()), status)
    ax.set_xlabel("Evaluated on")
    ax.set_ylabel("Finetuned on")
    cb = fig.colorbar(im, ax=ax, fraction=0.05, pad=0.03)
    cb.set_label("AUROC")
    cb.outline.set_visible(False)
    return fig


def figC3(t: Tables, opts: Options):
    """Transfer heatmaps for every finetuned base model (rows) and test split (columns)."""
    splits = [s for s in ("test", "temporal", "temporal_2024", "external")]
    ft = rows(t.metrics(), kind="finetune", subset="all")
    models = order_models(ft["series"].drop_nulls().unique().to_list()) or [opts.primary_model]
    fig, axes = plt.subplots(len(models), len(splits),
                             figsize=(FULL_WIDTH, 1.75 * len(models) + 0.5), squeeze=False)
    im = None
    vmax = _vmax(ft["auroc"].to_list())
    for i, model in enumerate(models):
        for j, split in enumerate(splits):
            ax = axes[i, j]
            df = _transfer_rows(t, model, split)
            if j == 0:
                ax.set_ylabel(model_label(model), fontweight="bold")
            if i == 0:
                ax.set_title(split_label(split), loc="center")
            if rows(df, kind="finetune").is_empty():
                not_run(ax)
                continue
            tasks = task_list(t)
            mat, labels, keys, status = _matrix(df, tasks)
            short_rows = [SHORT.get(tr, tr) if k == "finetune" else lb
                          for (k, tr), lb in zip(keys, labels)]
            im = _heatmap(ax, mat, short_rows, [SHORT.get(x, x) for x in tasks],
                          opts.style.font_size - 1.5, vmax, status)
            if j:
                ax.set_yticklabels([])
            if i < len(models) - 1:
                ax.set_xticklabels([])
    if im is not None:
        fig.tight_layout(rect=(0, 0.02, 0.93, 1))
        cax = fig.add_axes((0.945, 0.3, 0.012, 0.4))
        cb = fig.colorbar(im, cax=cax)
        cb.set_label("AUROC")
        cb.outline.set_visible(False)
    fig.text(0.01, 0.002, "Rows: task finetuned on (then multi-task, zero-shot); "
             "columns: task evaluated on.", ha="left", va="bottom",
             fontsize=opts.style.font_size - 1, color="#555555")
    return fig
