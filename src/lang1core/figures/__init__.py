"""The study's figures, each drawn from the evaluation tables (`R/tables/*.csv`) only.

`render(name, tables_dir, outputs, options)` draws one figure and writes it in every format
named by `outputs`' suffixes. Data a figure needs but the tables lack (a stage not run, a
split with no rows) shows as a labelled "not run" panel, so the report still builds.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable

from lang1core.figures.registry import DATASET_TABLES, FIGURES
from lang1core.publish import write_text

log = logging.getLogger(__name__)
# matplotlib's PDF font subsetting logs every table it prunes at INFO; keep rule logs readable.
logging.getLogger("fontTools").setLevel(logging.WARNING)

__all__ = ["FIGURES", "DATASET_TABLES", "render", "render_dataset_table", "render_all",
           "figure_function"]


def figure_function(name: str) -> Callable:
    from lang1core.figures import (
        calibration,
        conditional,
        performance,
        strata,
        trajectory,
        transfer,
    )

    for module in (performance, trajectory, transfer, calibration, conditional, strata):
        if hasattr(module, name):
            return getattr(module, name)
    raise KeyError(f"unknown figure {name!r}; expected one of {sorted(FIGURES)}")


def render(name: str, tables_dir: str | Path, outputs: Iterable[str | Path], options=None) -> list[Path]:
    """Draw figure `name` from the tables in `tables_dir` and save it to each output path."""
    import matplotlib.pyplot as plt

    from lang1core.figures.common import Options
    from lang1core.figures.style import save
    from lang1core.figures.tables import Tables

    options = options or Options()
    func = figure_function(name)
    with plt.rc_context(options.style.rc()):
        fig = func(Tables(tables_dir), options)
        written = save(fig, outputs, options.style, note=options.note)
    log.info("%s: wrote %s", name, ", ".join(str(p) for p in written))
    return written


def render_dataset_table(name: str, tables_dir: str | Path, outputs: Iterable[str | Path],
                         options=None) -> list[Path]:
    """Dataset table `name` (B1..B7): a figure table (.pdf/.png/...) and Markdown (.md)."""
    import matplotlib.pyplot as plt

    from lang1core.figures.common import Options
    from lang1core.figures.dataset import read_dataset_table, table_figure, to_markdown
    from lang1core.figures.style import save
    from lang1core.figures.tables import dataset_tables

    options = options or Options()
    path = dataset_tables(tables_dir).get(name)
    df = read_dataset_table(path)
    title = f"Table {name}" + (f": {path.stem.split('_', 1)[1].replace('_', ' ')}"
                               if path is not None and "_" in path.stem else "")
    if path is None:
        log.info("%s: no %s*.csv in %s; drawing 'not run'", name, name, tables_dir)
    outputs = [Path(p) for p in outputs]
    written = []
    for md in [p for p in outputs if p.suffix == ".md"]:
        write_text(md, to_markdown(df, title))
        written.append(md)
    images = [p for p in outputs if p.suffix != ".md"]
    if images:
        with plt.rc_context(options.style.rc()):
            written += save(table_figure(df, title, options.style), images, options.style,
                            note=options.note)
    return written


def render_all(tables_dir: str | Path, out_dir: str | Path, options=None,
               names: Iterable[str] | None = None) -> list[Path]:
    """Every figure and dataset table (or just `names`) into out_dir as <name>.<format>."""
    from lang1core.figures.common import Options

    options = options or Options()
    out_dir = Path(out_dir)
    written = []
    for name in names or [*FIGURES, *DATASET_TABLES]:
        outs = [out_dir / f"{name}.{ext}" for ext in options.style.formats]
        if name in DATASET_TABLES:
            written += render_dataset_table(name, tables_dir, outs + [out_dir / f"{name}.md"],
                                            options)
        else:
            written += render(name, tables_dir, outs, options)
    return written
