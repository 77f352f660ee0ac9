"""The audit's figure, drawn from results/audit/{model}.json alone: (a) canary exposure by
repetition count, (b) membership-inference AUROC with its interval, (c) training vs held-out
rates of verbatim continuation and identifier leakage. Thresholds are dashed lines."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the Agg backend
import numpy as np  # noqa: E402 - after choosing the Agg backend

from lang1core.figures.style import (  # noqa: E402 - after choosing the Agg backend
    FULL_WIDTH,
    Style,
    ci_yerr,
    not_run,
    panel_letter,
    save,
)

CHANCE_EXPOSURE = 1 / math.log(2)  # expected exposure of a secret ranked uniformly at random
TRAIN, HELD = "#D55E00", "#0072B2"


def _absent(ax, what: str, status: str | None) -> None:
    not_run(ax, what, textwrap.fill(status or "not run", 26))


def draw(result: dict, outputs: list[str | Path], style: Style | None = None, note: str | None = None) -> None:
    style = style or Style()
    th = result["settings"]["thresholds"]
    with plt.rc_context(style.rc()):
        fig, (a, b, c) = plt.subplots(1, 3, figsize=(FULL_WIDTH, 2.4), gridspec_kw={"width_ratios": [1.2, 1.0, 1.4]})
        verdict = "PASS" if result["verdict"]["pass"] else "FAIL"
        fig.suptitle(f"Memorisation and identifier audit: {result['model']} ({verdict})",
                     fontsize=style.title_size, fontweight="bold")
        reps = (result.get("canaries") or {}).get("by_repetitions")
        if reps:
            x = [r["repetitions"] for r in reps]
            y = [r["mean_exposure"] for r in reps]
            a.errorbar(x, y, yerr=ci_yerr(y, [r["min_exposure"] for r in reps], [r["max_exposure"] for r in reps]),
                       marker="o", color=TRAIN, label="mean (min-max)")
            a.axhline(CHANCE_EXPOSURE, color="#777777", lw=0.8, label="chance")
            a.axhline(th["max_exposure"], color="#333333", ls="--", lw=0.8, label="threshold")
            a.set_xscale("log", base=2)
            a.set_xticks(x, [str(v) for v in x])
            a.set_ylim(0, max(result["canaries"]["max_possible_exposure"], th["max_exposure"]) * 1.05)
            a.set_xlabel("times inserted")
            a.set_ylabel("exposure (bits)")
            a.legend(loc="upper left")
        else:
            _absent(a, "canary exposure", (result.get("canaries") or {}).get("status"))
        a.set_title("Canary exposure")
        panel_letter(a, "a")

        mem = result.get("membership") or {}
        bars = [(k, mem.get(k)) for k, _ in (("loss", 0), ("calibrated", 1)) if mem.get(k)]
        if bars:
            v = [m["auroc"] for _, m in bars]
            b.bar(range(len(bars)), v, color=TRAIN, width=0.6,
                  yerr=ci_yerr(v, [m["ci_low"] for _, m in bars], [m["ci_high"] for _, m in bars]))
            b.axhline(0.5, color="#777777", lw=0.8)
            b.axhline(th["max_mia_auroc"], color="#333333", ls="--", lw=0.8)
            b.set_xticks(range(len(bars)), [k for k, _ in bars])
            b.set_ylim(0, 1)
            b.set_ylabel("AUROC")
        else:
            _absent(b, "membership inference", mem.get("status"))
        b.set_title("Membership")
        panel_letter(b, "b")

        ext, ide = result.get("extraction") or {}, result.get("identifiers") or {}
        groups = []
        if ext.get("train"):
            groups += [("exact\ncontinuation", ext["train"]["exact_rate"], ext["held_out"]["exact_rate"]),
                       ("near-verbatim\ncontinuation", ext["train"]["near_verbatim_rate"],
                        ext["held_out"]["near_verbatim_rate"])]
        if ide.get("train"):
            groups.append(("sample holds\nan identifier", ide["train"]["any"], ide["held_out"]["any"]))
        if groups:
            x = np.arange(len(groups))
            for dx, k, color, label in ((-0.18, 1, TRAIN, "training"), (0.18, 2, HELD, "held-out")):
                bars_c = c.bar(x + dx, [g[k] or 0 for g in groups], 0.36, color=color, label=label)
                # a zero rate draws no bar: the number says it was measured
                c.bar_label(bars_c, labels=[f"{g[k]:.2f}" if g[k] is not None else "n/a" for g in groups],
                            fontsize=style.font_size - 1.5, padding=1)
            c.set_xticks(x, [g[0] for g in groups])
            c.set_ylabel("share")
            c.set_ylim(0, max(0.1, *(g[1] or 0 for g in groups), *(g[2] or 0 for g in groups)) * 1.15)
            c.legend(loc="upper right")
        else:
            _absent(c, "extraction and identifiers", ext.get("status") or ide.get("status"))
        c.set_title("Verbatim output")
        panel_letter(c, "c")
        fig.tight_layout()
        save(fig, outputs, style, note)
