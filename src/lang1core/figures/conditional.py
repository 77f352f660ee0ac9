"""Fig. F6: how length of stay and in-hospital mortality depend on each other (task data)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from lang1core.evaluate.status import OK
from lang1core.figures.common import Options, rows
from lang1core.figures.style import FULL_WIDTH, not_run
from lang1core.figures.tables import Tables

GIVEN_COLORS = ["#56B4E9", "#D55E00", "#009E73", "#CC79A7", "#E69F00"]


def _ordered(values):
    return list(dict.fromkeys(values))  # the table's order is the bins' order


def _n_or_status(d, n: int) -> str:
    """"n=1,234", or the rows' status when they could not be estimated ("no examples")."""
    bad = [s for s in d["status"].to_list() if s != OK]
    return bad[0] if bad else f"n={n:,}"


def figF6(t: Tables, opts: Options):
    df = t["conditional"]
    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 2.4))
    # Left: P(LOS bin | mortality outcome) as grouped bars.
    ax = axes[0]
    ax.set_title("Length of stay given mortality", loc="left")
    d = rows(df, direction="los|mortality")
    if d.is_empty():
        not_run(ax, "conditional table")
    else:
        outcomes = _ordered(d["outcome"].to_list())
        givens = _ordered(d["given"].to_list())
        w = 0.8 / len(givens)
        for j, g in enumerate(givens):
            e = rows(d, given=g)
            p = [float(rows(e, outcome=o)["probability"].sum()) for o in outcomes]
            n = int(e["n"].max() or 0)
            ax.bar(np.arange(len(outcomes)) - 0.4 + w * (j + 0.5), p, width=w * 0.92,
                   color=GIVEN_COLORS[j % len(GIVEN_COLORS)],
                   label=f"died: {g} ({_n_or_status(e, n)})")
        ax.set_xticks(range(len(outcomes)))
        ax.set_xticklabels([o.replace(" days", " d") for o in outcomes])
        ax.set_ylabel("P(LOS bin | mortality)")
        ax.set_xlabel("Length of stay")
        ax.legend(loc="upper left")
        ax.grid(axis="x", visible=False)
    # Right: P(death | LOS bin).
    ax = axes[1]
    ax.set_title("Mortality given length of stay", loc="left")
    d = rows(df, direction="mortality|los")
    if d.is_empty():
        not_run(ax, "conditional table")
    else:
        givens = _ordered(d["given"].to_list())
        outs = _ordered(d["outcome"].to_list())
        positive = "yes" if "yes" in outs else outs[-1]
        e = rows(d, outcome=positive)
        p = [float(rows(e, given=g)["probability"].sum()) for g in givens]
        ns = [_n_or_status(rows(d, given=g), int(rows(d, given=g)["n"].max() or 0))
              for g in givens]
        bars = ax.bar(range(len(givens)), p, color="#D55E00", width=0.6)
        for b, n in zip(bars, ns):
            ax.text(b.get_x() + b.get_width() / 2, b.get_height(), n, ha="center",
                    va="bottom", fontsize=opts.style.font_size - 1.5, color="#555555")
        ax.set_xticks(range(len(givens)))
        ax.set_xticklabels([g.replace(" days", " d") for g in givens])
        ax.set_ylabel(f"P(mortality = {positive} | LOS)")
        ax.set_xlabel("Length of stay")
        ax.set_ylim(0, max(p) * 1.25 if max(p) > 0 else 1)
        ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig
