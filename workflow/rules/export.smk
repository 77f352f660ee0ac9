# Stage: export validation and source adapters (docs/architecture.md#export-tables).
# Whatever the source (synthetic hospital, a site's own export, MIMIC-III through its
# adapter), the five contract tables are checked here and every later stage reads only
# R/validated/*.parquet.


rule mimic3_adapter:
    input:
        mimic3_files,
    output:
        tables=expand(res("mimic3_export", "{table}.parquet"), table=EXPORT_TABLES),
        report=res("mimic3_export", "adapter_report.json"),
    log:
        res("logs", "export", "mimic3_adapter.log"),
    benchmark:
        res("benchmarks", "export", "mimic3_adapter.tsv")
    conda:
        ENV
    params:
        dir=lambda wildcards: config["mimic3"]["dir"],
    script:
        "../scripts/export_mimic3.py"


rule validate_export:
    input:
        export_files,
    output:
        tables=expand(res("validated", "{table}.parquet"), table=EXPORT_TABLES),
        rejected=expand(
            res("validated", "rejected", "{table}.parquet"), table=EXPORT_TABLES
        ),
        report=res("validated", "report.json"),
    log:
        main=res("logs", "export", "validate_export.log"),
        # The report again, beside the log: a failed job's outputs are removed, its logs kept.
        report=res("logs", "export", "validate_report.json"),
    benchmark:
        res("benchmarks", "export", "validate_export.tsv")
    conda:
        ENV
    params:
        dir=lambda wildcards: export_folder(),
        format=config["export"]["format"],
        max_reject_rate=config["export"]["max_reject_rate"],
        export=config["export"],
    script:
        "../scripts/export_validate.py"


# What each configured task would get from the validated export. A rule of its own, so a
# changed `remede:` key re-checks readiness without re-validating (and so re-running every
# stage downstream of the validated tables).
rule export_readiness:
    input:
        tables=expand(res("validated", "{table}.parquet"), table=EXPORT_TABLES),
    output:
        res("validated", "readiness.json"),
    log:
        res("logs", "export", "readiness.log"),
    conda:
        ENV
    params:
        remede=config["remede"],
        seed=config["seed"],
        held_out_site=config["held_out_site"],
        # A site's own export must feed every configured task; the synthetic and MIMIC-III
        # sources report readiness without failing on it (MIMIC-III needs its own windows).
        require_ready=config["source"] == "export",
    script:
        "../scripts/export_readiness.py"


TARGETS += [res("validated", "report.json")]
