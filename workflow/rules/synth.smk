# Stage: synth. The built-in synthetic hospital writes the export tables a site's SQL would
# (docs/architecture.md#export-tables) plus the oracle that evaluation compares models
# against. Only with `source: synthetic`; other sources bring their own export.

SYNTH_TABLES = ["patients", "encounters", "notes", "diagnoses", "claims"]

if config["source"] == "synthetic":

    rule synth:
        output:
            tables=expand(res("export", "{table}.csv"), table=SYNTH_TABLES),
            oracle=res("oracle", "oracle.parquet"),
        log:
            res("logs", "synth.log"),
        benchmark:
            res("benchmarks", "synth.tsv")
        conda:
            ENV
        threads: 2
        params:
            synth=config.get("synth", {}),
            seed=config["seed"],
        script:
            "../scripts/synth.py"
