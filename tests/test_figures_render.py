"""Figures: every figure renders from contract-shaped tables, and says "not run" instead of
crashing when its rows (or whole tables) are missing."""

from __future__ import annotations

import struct

import polars as pl
import pytest

from lang1core.figures import DATASET_TABLES, FIGURES, figure_function, render_all
from lang1core.figures.common import Options, options_from_config
from lang1core.figures.fixtures import write_tables
from lang1core.figures.style import Style
from lang1core.figures.tables import Tables, read_table

ALL = [*FIGURES, *DATASET_TABLES]


def fast_options(**kw) -> Options:
    return Options(style=Style(dpi=80), note="demo data", **kw)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    d = tmp_path_factory.mktemp("tables")
    write_tables(d, seed=1)
    return d


@pytest.fixture(scope="module")
def rendered(tables, tmp_path_factory):
    """Every figure drawn once from the full demo tables: (folder, name -> text drawn)."""
    from lang1core.figures import render_dataset_table
    from lang1core.figures.style import save

    out = tmp_path_factory.mktemp("figures")
    drawn = {}
    opts = fast_options()
    import matplotlib.pyplot as plt

    for name in ALL:
        files = [out / f"{name}.pdf", out / f"{name}.png"]
        if name in DATASET_TABLES:
            render_dataset_table(name, tables, files + [out / f"{name}.md"], opts)
            continue
        with plt.rc_context(opts.style.rc()):
            fig = figure_function(name)(Tables(tables), opts)
            drawn[name] = texts(fig)
            save(fig, files, opts.style, note=opts.note)
    return out, drawn


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def texts(fig) -> str:
    """Every string drawn on a figure (titles, labels, annotations, tick labels)."""
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts]
        out += [ax.get_title(loc) for loc in ("left", "center", "right")]
    return "\n".join(out)


def draw(name, tables_dir, **kw):
    import matplotlib.pyplot as plt

    fig = figure_function(name)(Tables(tables_dir), fast_options(**kw))
    s = texts(fig)
    plt.close(fig)
    return s


@pytest.mark.parametrize("name", ALL)
def test_every_figure_renders_pdf_and_png(rendered, name):
    rendered = rendered[0]
    pdf, png = rendered / f"{name}.pdf", rendered / f"{name}.png"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 5_000
    w, h = png_size(png)
    assert w > 200 and h > 100
    assert png.stat().st_size > 10_000
    if name in DATASET_TABLES:
        assert (rendered / f"{name}.md").read_text().startswith(f"## Table {name}")


@pytest.mark.parametrize("name", [n for n in FIGURES if n != "figF6"])
def test_full_tables_have_no_not_run_panel(rendered, name):
    assert "not run" not in rendered[1][name]


@pytest.mark.parametrize("name", ALL)
def test_empty_tables_folder_draws_not_run(tmp_path, name):
    opts = Options(style=Style(dpi=40, formats=("png",)))
    out = render_all(tmp_path / "none", tmp_path / "out", opts, [name])
    assert [p.suffix for p in out if p.suffix != ".md"] == [".png"]
    if name in FIGURES:
        assert "not run" in draw(name, tmp_path / "none")
    else:
        assert "not run" in out[0].read_text()


def _drop(tables, tmp_path, table, expr):
    d = tmp_path / "t"
    d.mkdir()
    for p in tables.iterdir():
        (d / p.name).write_bytes(p.read_bytes())
    df = read_table(d / f"{table}.csv").filter(~expr)
    df.write_csv(d / f"{table}.csv")
    return d


@pytest.mark.parametrize("name,table,expr,expect", [
    ("fig3a", "auroc", pl.col("task") == "probe", "probe"),
    ("fig4b", "runs", pl.col("kind") == "efficiency", "efficiency runs"),
    ("fig5b", "auroc", pl.col("split") == "external", "external-site evaluation"),
    ("figL9", "auroc", pl.col("subset") == "unseen", "unseen-patient subset"),
    ("fig2a", "runs", pl.col("kind") == "zeroshot", "zero-shot evaluation"),
])
def test_missing_rows_draw_labelled_not_run(tables, tmp_path, name, table, expr, expect):
    d = _drop(tables, tmp_path, table, expr)
    if table == "runs":  # the runs are gone; drop their metrics too
        runs = read_table(tables / "runs.csv").filter(expr).select("model", "recipe")
        a = read_table(d / "auroc.csv").join(runs, on=["model", "recipe"], how="anti")
        a.write_csv(d / "auroc.csv")
    s = draw(name, d)
    assert "not run" in s and expect in s


def test_one_task_missing_leaves_other_panels(tables, tmp_path):
    d = _drop(tables, tmp_path, "auroc", (pl.col("task") == "cci") & (pl.col("split") == "temporal_2024"))
    s = draw("fig3b", d)
    assert s.count("not run") == 1  # only the CCI panel


def test_single_class_stratum_is_shown(rendered):
    assert "single class" in rendered[1]["figK8"]


def test_header_only_table_reads_as_empty(tmp_path):
    (tmp_path / "auroc.csv").write_text(",".join(read_table(tmp_path / "x.csv", "auroc").columns)
                                        + "\n")
    assert read_table(tmp_path / "auroc.csv").is_empty()
    assert "not run" in draw("fig2a", tmp_path)


def test_missing_contract_column_names_file_and_column(tables, tmp_path):
    d = _drop(tables, tmp_path, "auroc", pl.lit(False))
    read_table(d / "auroc.csv").drop("ci_high").write_csv(d / "auroc.csv")
    with pytest.raises(ValueError, match=r"auroc\.csv.*ci_high"):
        draw("fig2a", d)


def test_without_runs_table_kinds_are_inferred(tables, tmp_path):
    d = _drop(tables, tmp_path, "auroc", pl.lit(False))
    (d / "runs.csv").unlink()
    m = Tables(d).metrics()
    kinds = {(mo, re): k for mo, re, k in m.select("model", "recipe", "kind").unique().iter_rows()}
    assert kinds[("lang1", "zeroshot")] == "zeroshot"
    assert kinds[("lang1-s2", "zeroshot")] == "trajectory"
    assert kinds[("lang1", "los-n300")] == "efficiency"
    assert kinds[("tfidf", "los")] == "tfidf"
    assert kinds[("generalist", "cci")] == "finetune"
    assert "not run" not in draw("fig2a", d)


def test_options_from_config_and_note():
    o = options_from_config({"dpi": 123, "formats": ["pdf", "png", "svg"], "split": "test",
                             "periods": ["test"], "style": {"font_size": 9}}, "synthetic")
    assert o.style.dpi == 123 and o.style.formats == ("pdf", "png", "svg")
    assert o.split == "test" and o.periods == ("test",) and o.style.font_size == 9
    assert o.note == "synthetic data"
    assert options_from_config({}, "export").note is None


def test_config_section_matches_schema(repo):
    import jsonschema
    import yaml

    schema = yaml.safe_load((repo / "workflow/schemas/figures.schema.yaml").read_text())
    section = yaml.safe_load((repo / "config.yaml").read_text())["figures"]
    jsonschema.validate(section, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**section, "formats": ["pdf"]}, schema)  # the report needs png
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**section, "dpl": 300}, schema)


def test_every_figure_has_a_report_caption(repo):
    for name in ALL:
        text = (repo / "workflow/report" / f"{name}.rst").read_text()
        assert "snakemake.params.data" in text, name


def test_cli_draws_demo_and_tables_folder(tmp_path, tables):
    from lang1core.cli import main

    assert main(["figures", "--demo", str(tmp_path / "demo"), "--only", "fig2a",
                 "--formats", "png", "--dpi", "60"]) == 0
    assert (tmp_path / "demo" / "fig2a.png").stat().st_size > 5_000
    assert main(["figures", str(tables), str(tmp_path / "t"), "--only", "figF6", "B1",
                 "--formats", "pdf", "--dpi", "60"]) == 0
    assert {p.name for p in (tmp_path / "t").iterdir()} == {"figF6.pdf", "B1.pdf", "B1.md"}
    with pytest.raises(SystemExit, match="not a folder"):
        main(["figures", str(tmp_path / "nope"), str(tmp_path / "x")])


STATUS_FIGURES = ["fig2a", "fig2b", "figD4", "figA2", "figL9", "fig5b", "figM10", "fig3b", "fig4a",
                  "fig4b", "fig4c", "fig5a", "figC3", "figE5"]


@pytest.fixture(scope="module")
def one_positive_tables(tables, tmp_path_factory):
    """The demo tables with every Lang1 mortality result unreadable (one positive)."""
    d = tmp_path_factory.mktemp("one_positive")
    for p in tables.iterdir():
        (d / p.name).write_bytes(p.read_bytes())
    df = read_table(d / "auroc.csv")
    runs = read_table(d / "runs.csv").select("model", "recipe", "base")
    hit = pl.col("task") == "mortality"
    lang1 = df.join(runs, on=["model", "recipe"], how="left")["base"] == "lang1"
    df = df.with_columns(
        status=pl.when(hit & lang1).then(pl.lit("1 positive")).otherwise(pl.col("status")),
        **{c: pl.when(hit & lang1).then(None).otherwise(pl.col(c))
           for c in ("auroc", "ci_low", "ci_high")})
    df.write_csv(d / "auroc.csv")
    cal = read_table(d / "calibration.csv")
    cal.with_columns(status=pl.when((pl.col("task") == "mortality") & (pl.col("model") == "lang1"))
                     .then(pl.lit("1 positive")).otherwise(pl.col("status"))).write_csv(d / "calibration.csv")
    return d


@pytest.mark.parametrize("name", STATUS_FIGURES)
def test_unreadable_cells_are_labelled_with_their_status(one_positive_tables, name):
    import matplotlib.pyplot as plt

    fig = figure_function(name)(Tables(one_positive_tables), fast_options())
    s = texts(fig)
    plt.close(fig)
    assert "1 positive" in s.replace("\n", " ")  # heatmap cells wrap it onto two lines
    assert "not run" not in s  # a result that exists but cannot be read is not "not run"


def test_unreadable_bar_is_a_gap_not_a_bar_at_the_floor(tables, one_positive_tables):
    import matplotlib.pyplot as plt

    def bars(d):
        fig = figure_function("fig2a")(Tables(d), fast_options())
        ax = fig.axes[0]
        n = len([p for p in ax.patches if p.get_height() > 0])
        labels = [t for t in ax.texts if t.get_text() == "1 positive"]
        plt.close(fig)
        return n, labels

    full, none = bars(tables)
    gapped, labels = bars(one_positive_tables)
    assert not none and gapped == full - 1 and len(labels) == 1  # Lang1's mortality bar
    assert labels[0].get_rotation() == 90


def test_a_series_with_only_unreadable_cells_keeps_its_legend_entry(tables, tmp_path):
    # The toy workflow's zero-shot runs: every cell one positive or one class, no bar at all.
    d = _drop(tables, tmp_path, "auroc", pl.lit(False))
    df = read_table(d / "auroc.csv")
    df.with_columns(status=pl.lit("single class"), auroc=None, ci_low=None, ci_high=None).write_csv(d / "auroc.csv")
    import matplotlib.pyplot as plt

    fig = figure_function("fig2a")(Tables(d), fast_options())
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    s = texts(fig)
    plt.close(fig)
    assert "Lang1 (clinical+general)" in legend and "single class" in s and "not run" not in s
