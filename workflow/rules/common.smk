# Shared by every stage: config validation, wildcard constraints and the target list.

from pathlib import Path

from snakemake.utils import validate


validate(config, "../schemas/config.schema.yaml")

# Every path the workflow writes lives under this root.
R = config["results"]


def res(*parts):
    """Path under the results root."""
    return str(Path(R, *parts))


# Each stage's .smk appends the files that `rule all` should build.
TARGETS = []
