"""One look for every figure: fonts, sizes, a fixed colour per model, and saving.

Sizes follow a two-column journal page: a full-width figure is 7.2 in wide, a single column
3.5 in; text is 7-8 pt so it stays readable when the PDF is placed at 100%. Every model keeps
its colour in every figure (Lang1 is always the same blue), so a reader learns the legend
once. Fonts are embedded as TrueType (pdf.fonttype 42) so journals' checkers and editors
can read the text.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import matplotlib

matplotlib.use("Agg")  # no display on cluster nodes; figures are files only
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the Agg backend

from lang1core.contracts import strip_snapshot  # noqa: E402 - after choosing the Agg backend
from lang1core.publish import published_file  # noqa: E402 - after choosing the Agg backend

log = logging.getLogger(__name__)

FULL_WIDTH = 7.2  # in, two-column page width
HALF_WIDTH = 3.5  # in, one column


@dataclass
class Style:
    """Figure style knobs (mirrors the `figures.style` config section)."""

    font_family: str = "DejaVu Sans"  # ships with matplotlib, so every machine renders alike
    font_size: float = 7.5  # pt, body text and tick labels
    title_size: float = 8.5  # pt, panel titles
    dpi: int = 300  # PNG resolution; journals ask for >= 300 for line art
    formats: tuple[str, ...] = ("pdf", "png")
    line_width: float = 1.2  # pt
    marker_size: float = 3.5  # pt
    ci_alpha: float = 0.12  # opacity of confidence bands
    extra: dict = field(default_factory=dict)

    def rc(self) -> dict:
        return {
            "font.family": "sans-serif",
            "font.sans-serif": [self.font_family, "DejaVu Sans", "Arial", "Helvetica"],
            "font.size": self.font_size,
            "axes.titlesize": self.title_size,
            "axes.titleweight": "bold",
            "axes.labelsize": self.font_size,
            "xtick.labelsize": self.font_size - 0.5,
            "ytick.labelsize": self.font_size - 0.5,
            "legend.fontsize": self.font_size - 0.5,
            "legend.frameon": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.linewidth": 0.6,
            "xtick.major.width": 0.6,
            "ytick.major.width": 0.6,
            "xtick.major.size": 2.5,
            "ytick.major.size": 2.5,
            "axes.grid": True,
            "grid.linewidth": 0.4,
            "grid.alpha": 0.35,
            "axes.axisbelow": True,
            "lines.linewidth": self.line_width,
            "lines.markersize": self.marker_size,
            "errorbar.capsize": 1.5,
            "figure.dpi": 100,
            "savefig.dpi": self.dpi,
            "savefig.bbox": "tight",
            "savefig.pad_inches": 0.03,
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.fonttype": "none",
        }


def style_from_config(section: dict | None) -> Style:
    """Build a Style from the workflow's `figures` config section (plain dict)."""
    section = dict(section or {})
    st = dict(section.get("style") or {})
    kwargs = {k: st[k] for k in ("font_family", "font_size", "title_size", "line_width",
                                 "marker_size", "ci_alpha") if k in st}
    if "dpi" in section:
        kwargs["dpi"] = int(section["dpi"])
    if "formats" in section:
        kwargs["formats"] = tuple(section["formats"])
    return Style(**kwargs)


# Fixed colours (Okabe-Ito, colour-blind safe) for the study's models; anything else (an
# imported HF model, a new ablation) gets a stable colour from a hash of its name.
MODEL_COLORS: dict[str, str] = {
    "lang1": "#0072B2",  # clinical + general pretraining: the study's model
    "generalist": "#E69F00",  # general text only
    "clinical_only": "#009E73",  # clinical notes only
    "scratch": "#999999",  # finetuned from random init
    "tfidf": "#555555",  # bag-of-words baseline
    "oracle": "#000000",  # synthetic hospital's best achievable
}
_EXTRA = ["#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#8C564B", "#7F3C8D", "#11A579",
          "#3969AC", "#E73F74", "#80BA5A"]

MODEL_LABELS: dict[str, str] = {
    "lang1": "Lang1 (clinical+general)",
    "generalist": "Generalist",
    "clinical_only": "Clinical only",
    "scratch": "From scratch",
    "tfidf": "TF-IDF + LR",
    "oracle": "Oracle",
}

TASK_LABELS: dict[str, str] = {
    "readmission": "Readmission",
    "mortality": "Mortality",
    "los": "Length of stay",
    "cci": "Comorbidity",
    "denial": "Claim denial",
    "probe": "Reading probe",
}
TASK_ORDER = ["readmission", "mortality", "los", "cci", "denial"]

SPLIT_LABELS: dict[str, str] = {
    "test": "Test (2013-21)",
    "temporal": "Temporal 2021",
    "temporal_2024": "Temporal 2024",
    "external": "External site",
    "val": "Validation",
}

def model_color(model: str) -> str:
    name = strip_snapshot(str(model))
    if name in MODEL_COLORS:
        return MODEL_COLORS[name]
    digest = int(hashlib.md5(name.encode()).hexdigest(), 16)
    return _EXTRA[digest % len(_EXTRA)]


def model_label(model: str) -> str:
    return MODEL_LABELS.get(str(model), str(model))


def task_label(task: str) -> str:
    return TASK_LABELS.get(str(task), str(task))


def split_label(split: str) -> str:
    return SPLIT_LABELS.get(str(split), str(split))


def order_models(models: Iterable[str]) -> list[str]:
    """Study models first in a fixed order, then the rest alphabetically."""
    fixed = list(MODEL_COLORS)
    models = list(dict.fromkeys(str(m) for m in models))
    return [m for m in fixed if m in models] + sorted(m for m in models if m not in fixed)


def order_tasks(tasks: Iterable[str]) -> list[str]:
    tasks = list(dict.fromkeys(str(t) for t in tasks))
    return [t for t in TASK_ORDER if t in tasks] + sorted(t for t in tasks if t not in TASK_ORDER)


def fmt_tokens(x: float, _pos=None) -> str:
    """Axis formatter: 1.2e9 -> '1.2B', 3e6 -> '3M'."""
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            v = x / div
            return f"{v:.0f}{suffix}" if v == int(v) else f"{v:.1f}{suffix}"
    return f"{x:.0f}"


def tokens_axis(ax, values, label: str, axis: str = "x") -> None:
    """Token / example-count axis: log scale when the values span more than a decade and a
    half, labelled 1M / 2B; linear otherwise (a snapshot sweep inside one decade)."""
    import matplotlib.ticker as mticker
    import numpy as np

    v = np.asarray([x for x in values if x is not None and x > 0], dtype=float)
    a = ax.xaxis if axis == "x" else ax.yaxis
    if v.size and v.max() / v.min() > 30:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        a.set_minor_formatter(mticker.NullFormatter())
    else:
        a.set_major_locator(mticker.MaxNLocator(4))
    a.set_major_formatter(mticker.FuncFormatter(fmt_tokens))
    (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label)


def not_run(ax, what: str = "", reason: str = "not run") -> None:
    """Mark a panel whose data is absent: a labelled empty box, never a crash."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(True)
        ax.spines[side].set_linestyle((0, (2, 2)))
        ax.spines[side].set_color("#999999")
    text = "not run" if reason == "not run" else f"not run\n({reason})"
    if what:
        text = f"{what}\n{text}"
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes,
            color="#666666", fontsize=plt.rcParams["font.size"], style="italic", wrap=True)


def panel_letter(ax, letter: str) -> None:
    ax.text(-0.02, 1.02, letter, transform=ax.transAxes, ha="right", va="bottom",
            fontweight="bold", fontsize=plt.rcParams["axes.titlesize"] + 1)


def ci_yerr(values, low, high):
    """Asymmetric error-bar lengths from interval bounds; missing bounds draw no bar."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    lo = np.asarray(low, dtype=float)
    hi = np.asarray(high, dtype=float)
    lower = np.where(np.isfinite(lo), np.clip(v - lo, 0, None), 0.0)
    upper = np.where(np.isfinite(hi), np.clip(hi - v, 0, None), 0.0)
    lower = np.nan_to_num(lower)
    upper = np.nan_to_num(upper)
    return np.vstack([lower, upper])


def save(fig, outputs: Iterable[str | Path], style: Style, note: str | None = None) -> list[Path]:
    """Write the figure to every output path (format from the suffix) and close it.

    `note` is a small footer (e.g. "synthetic data") so a figure lifted out of the report
    still says what it was drawn from.
    """
    if note:
        fig.text(0.995, 0.002, note, ha="right", va="bottom", fontsize=style.font_size - 1.5,
                 color="#888888", style="italic")
    written = []
    for out in outputs:
        out = Path(out)
        with published_file(out) as tmp:  # the partial's name has no suffix: format is given
            fig.savefig(tmp, format=out.suffix.lstrip("."), dpi=style.dpi,
                        metadata=None if out.suffix != ".pdf" else {"Creator": "lang1", "CreationDate": None})
        written.append(out)
    plt.close(fig)
    return written
