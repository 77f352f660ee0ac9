"""Rule synth: generate the synthetic hospital's export tables and oracle."""

from pathlib import Path

from lang1core.logs import setup_logging
from lang1core.synth import SynthConfig, generate

# Guarded: the generator's worker processes are spawned and import this script again.
if __name__ == "__main__":
    setup_logging(snakemake.log[0])  # noqa: F821 - snakemake injects this object
    options = dict(snakemake.params.synth)  # noqa: F821 - snakemake injects this object
    if "sites" in options:
        options["sites"] = tuple(options["sites"])
    cfg = SynthConfig(seed=snakemake.params.seed, **options)  # noqa: F821 - snakemake injects this object
    generate(cfg, Path(snakemake.output.tables[0]).parent, snakemake.output.oracle, progress=False,  # noqa: F821 - snakemake injects this object
             workers=snakemake.threads)  # noqa: F821 - snakemake injects this object
