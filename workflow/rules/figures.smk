# Stage: figures. One rule per figure of the study (and per dataset table B1-B7), each
# reading only the evaluation tables under R/tables/ (written by rule `tables`), so any
# figure can be rebuilt alone: snakemake R/figures/fig2a.pdf. A figure whose rows are
# missing draws "not run" panels instead of failing. `snakemake --report report.html`
# collects every figure with its caption (workflow/report/).

from lang1core.figures.registry import DATASET_TABLES, FIGURES


report: "../report/workflow.rst"


FIG_FORMATS = config["figures"]["formats"]
FIG_DATA = {
    "synthetic": "the built-in synthetic hospital (made-up patients, not real data)",
    "export": "this site's EHR export",
    "mimic3": "MIMIC-III",
}.get(config["source"], config["source"])
# Dataset tables (B1_<what>.csv ...) are copied into tables/ by rule `tables`, whose
# declared output runs.csv stands for them.
FIG_DATASET_INPUT = ("datasets",)
FIG_TABLE_FILE = {"datasets": "runs.csv"}


def fig_inputs(tables):
    """Table files a figure reads (all written by evaluate.smk's rule `tables`)."""
    return [res("tables", FIG_TABLE_FILE.get(t, f"{t}.csv")) for t in tables]


for _name, (_tables, _category, _title) in [
    *FIGURES.items(),
    *[(b, (FIG_DATASET_INPUT, "Dataset tables", f"Table {b}")) for b in DATASET_TABLES],
]:

    rule:
        name:
            f"figure_{_name}"
        input:
            tables=fig_inputs(_tables),
        output:
            png=report(
                res("figures", f"{_name}.png"),
                caption=f"../report/{_name}.rst",
                category=_category,
                labels={"figure": _name, "title": _title},
            ),
            other=[
                res("figures", f"{_name}.{ext}") for ext in FIG_FORMATS if ext != "png"
            ]
            + ([res("figures", f"{_name}.md")] if _name in DATASET_TABLES else []),
        log:
            res("logs", "figures", f"{_name}.log"),
        conda:
            ENV
        params:
            name=_name,
            tables_dir=lambda wildcards: res("tables"),
            figures=config["figures"],
            source=config["source"],
            data=FIG_DATA,
            split=config["figures"]["split"],
        script:
            "../scripts/figures_render.py"

    TARGETS.extend(
        [res("figures", f"{_name}.{ext}") for ext in FIG_FORMATS]
        + ([res("figures", f"{_name}.md")] if _name in DATASET_TABLES else [])
    )
