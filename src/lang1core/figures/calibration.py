"""Fig. E5: reliability curves (15 bins) of the finetuned models, one panel per task."""

from __future__ import annotations

import numpy as np

from lang1core.evaluate.status import OK
from lang1core.figures.common import (
    Options,
    legend_below,
    own_task,
    rows,
    series_in,
    subplots,
    task_list,
    task_panels,
)
from lang1core.figures.style import (
    FULL_WIDTH,
    model_color,
    model_label,
    split_label,
)
from lang1core.figures.tables import Tables


def figE5(t: Tables, opts: Options):
    cal = own_task(rows(t.with_runs("calibration"), split=opts.split, kind=["finetune", "joint"]))
    cal = rows(cal, kind="finetune")
    ece = own_task(rows(t.metrics(), split=opts.split, subset="all", kind="finetune"))
    tasks = task_list(t)
    fig, axes = subplots(len(tasks), width=FULL_WIDTH, height=1.95)
    handles = {}
    for ax, task, d in task_panels(axes, tasks, cal, "calibration"):
        ax.plot([0, 1], [0, 1], color="#888888", lw=0.6, ls="--")
        lines = []
        for s in series_in(d):
            e = rows(d, series=s).sort("bin").filter(rows(d, series=s).sort("bin")["count"] > 0)
            (h,) = ax.plot(e["confidence"], e["accuracy"], "-o", color=model_color(s),
                           ms=2.5, lw=1.0)
            handles[s] = h
            r = rows(ece, task=task, series=s).drop_nulls("ece")
            if r.height:
                # The curve is drawn whatever the status; the status says when it rests on
                # one class or a handful of positives.
                status = r["status"][0]
                lines.append((s, f"ECE {r['ece'][0]:.3f}" + ("" if status == OK else f" ({status})")))
        for k, (s, text) in enumerate(lines):
            ax.text(0.03, 0.97 - 0.11 * k, text, transform=ax.transAxes, ha="left",
                    va="top", color=model_color(s), fontsize=opts.style.font_size - 1)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xticks(np.linspace(0, 1, 3))
        ax.set_xlabel("Predicted probability")
    axes[0].set_ylabel(f"Observed frequency\n({split_label(opts.split)})")
    legend_below(fig, list(handles.values()), [f"{model_label(s)} finetuned" for s in handles])
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
