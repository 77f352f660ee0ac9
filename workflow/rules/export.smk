# Stage: export validation and source adapters (DESIGN §2-3).
# Whatever the source (synthetic hospital, a site's own export, MIMIC-III through its
# adapter), the five contract tables are checked here and every later stage reads only
# R/validated/*.parquet.

from snakemake.exceptions import WorkflowError

from lang1core.export.contract import TABLE_ORDER
from lang1core.export.reading import ExportSchemaError, find_table_file

EXPORT_TABLES = list(TABLE_ORDER)
MIMIC3_FILES = ["NOTEEVENTS", "ADMISSIONS", "PATIENTS", "DIAGNOSES_ICD"]


def export_folder():
    """The folder validated for the configured source."""
    if config["source"] == "synthetic":
        return res("export")
    if config["source"] == "mimic3":
        return res("mimic3_export")
    folder = config.get("export", {}).get("dir")
    if not folder:
        raise WorkflowError("source: export needs export.dir, the folder holding the export's five tables")
    return folder


def export_files(wildcards):
    """The export's table files, so that a changed export is validated again."""
    if config["source"] == "synthetic":
        return expand(res("export", "{table}.csv"), table=EXPORT_TABLES)
    if config["source"] == "mimic3":
        return expand(res("mimic3_export", "{table}.parquet"), table=EXPORT_TABLES)
    files = []
    for table in EXPORT_TABLES:
        try:
            files.append(str(find_table_file(export_folder(), table, config["export"]["format"])))
        except ExportSchemaError:
            pass  # the rule itself fails, naming every missing table and column at once
    return files


def mimic3_files(wildcards):
    folder = config.get("mimic3", {}).get("dir")
    if not folder:
        raise WorkflowError("source: mimic3 needs mimic3.dir, the folder holding MIMIC-III's CSV files")
    found = []
    for name in MIMIC3_FILES:
        for stem in (name, name.lower()):
            found += [str(p) for p in (Path(folder) / f"{stem}.csv", Path(folder) / f"{stem}.csv.gz") if p.is_file()]
    return found


rule mimic3_adapter:
    input:
        mimic3_files,
    output:
        tables=expand(res("mimic3_export", "{table}.parquet"), table=EXPORT_TABLES),
        report=res("mimic3_export", "adapter_report.json"),
    params:
        dir=lambda wildcards: config["mimic3"]["dir"],
    log:
        res("logs", "export", "mimic3_adapter.log"),
    benchmark:
        res("benchmarks", "export", "mimic3_adapter.tsv")
    script:
        "../scripts/export_mimic3.py"


rule validate_export:
    input:
        export_files,
    output:
        tables=expand(res("validated", "{table}.parquet"), table=EXPORT_TABLES),
        rejected=expand(res("validated", "rejected", "{table}.parquet"), table=EXPORT_TABLES),
        report=res("validated", "report.json"),
    params:
        dir=lambda wildcards: export_folder(),
        format=config["export"].get("format", "auto"),
        max_reject_rate=config["export"].get("max_reject_rate", 0.05),
    log:
        res("logs", "export", "validate_export.log"),
    benchmark:
        res("benchmarks", "export", "validate_export.tsv")
    script:
        "../scripts/export_validate.py"


# The synthetic source's tables come from the synth stage's rule; until that rule is part of
# the workflow, only the other sources can be validated.
if config["source"] != "synthetic" or any(
    Path(str(out)).parent == Path(res("export")) for r in workflow.rules for out in r.output
):
    TARGETS += [res("validated", "report.json")]
