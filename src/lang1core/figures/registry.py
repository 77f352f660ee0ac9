"""Which tables each figure reads, its report category and a one-line title.

Kept free of matplotlib so the workflow can import it when it builds the rule graph.
"""

from __future__ import annotations

# name -> (tables read from R/tables/, report category, title)
FIGURES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "fig2a": (("auroc", "runs"), "Main results", "Zero-shot AUROC per task and model"),
    "fig2b": (("auroc", "runs"), "Main results", "Finetuned vs best zero-shot and baselines"),
    "fig3a": (("auroc", "runs"), "Pretraining", "Reading-comprehension probe across pretraining"),
    "fig3b": (("auroc", "runs"), "Pretraining", "Zero-shot AUROC across pretraining tokens"),
    "fig4a": (("auroc", "runs"), "Scaling", "AUROC vs pretraining + finetuning tokens"),
    "fig4b": (("auroc", "runs"), "Scaling", "AUROC vs number of finetuning examples"),
    "fig4c": (("auroc", "runs"), "Scaling", "Question-answer perplexity vs AUROC"),
    "fig5a": (("auroc", "runs"), "Transfer", "Cross-task transfer (headline model)"),
    "figC3": (("auroc", "runs"), "Transfer", "Cross-task transfer, every model and split"),
    "fig5b": (("auroc", "runs"), "Transfer", "External site vs internal test"),
    "figM10": (("auroc", "runs"), "Transfer", "External vs internal AUROC, every run"),
    "figA2": (("auroc", "runs"), "Robustness", "AUROC across test periods"),
    "figD4": (("auroc", "runs"), "Pretraining", "Pretraining-data ablations"),
    "figE5": (("calibration", "auroc", "runs"), "Robustness", "Calibration curves"),
    "figF6": (("conditional",), "Data", "Conditional probabilities of LOS and mortality"),
    "figK8": (("strata", "auroc", "runs"), "Robustness", "Stratified AUROC"),
    "figL9": (("auroc", "runs"), "Robustness", "With and without patients seen in training"),
}
# Dataset tables (study Appendix B), rendered as figure tables and Markdown.
DATASET_TABLES: tuple[str, ...] = tuple(f"B{i}" for i in range(1, 8))
