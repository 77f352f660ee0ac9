"""The workflow config as every stage reads it: merged, validated, schema defaults applied,
and each section turned into its component's settings dataclass by one builder.

Where a default lives (README.md#where-defaults-live):
- config.yaml sets every key to the laptop-sized run;
- a setting's study value is the default of the dataclass that owns it (e.g.
  `lang1core.train.config.TrainConfig` owns `pretrain:`); the schema states the same value or
  none, and tests/test_settings.py fails when the two disagree;
- keys no dataclass owns (model lists, job resources, output formats) take their default from
  workflow/schemas/ alone.

Snakemake rules (workflow/rules/common.smk) and the `lang1` commands both call
`check_config` / `load_config`, so a config means the same thing to both.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml

# workflow/schemas/ of this checkout; the package is installed editable from the repository.
SCHEMAS = Path(__file__).resolve().parents[2] / "workflow" / "schemas"
ROOT_SCHEMA = "config.schema.yaml"

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or section that does not fit its schema or dataclass."""


def load_schema(name: str, schemas: Path = SCHEMAS) -> dict:
    path = Path(schemas) / name
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read schema ({err})") from err


def resolve(node: dict, doc: dict, schemas: Path = SCHEMAS) -> tuple[dict, dict]:
    """Follow `$ref` (to another schema file or to this file's `$defs`); keys beside the
    reference (description, default) win over the referenced node's. Returns (node, the
    document its own references resolve in)."""
    while "$ref" in node:
        ref = node["$ref"]
        if ref.startswith("#/"):
            target = doc
            for part in ref[2:].split("/"):
                if part not in target:
                    raise ConfigError(f"{schemas}: unresolvable reference {ref!r}")
                target = target[part]
        else:
            doc = load_schema(ref, schemas)
            target = doc
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node, doc


def apply_defaults(instance: Any, node: dict, doc: dict, schemas: Path = SCHEMAS) -> None:
    """Fill in every schema default the instance leaves out, in place, through nested
    sections and `name -> {...}` maps. (Snakemake's own `validate` does not descend into
    sections defined in another schema file, so it would leave them without defaults.)"""
    node, doc = resolve(node, doc, schemas)
    if not isinstance(instance, dict):
        return
    for key, raw in (node.get("properties") or {}).items():
        sub, sub_doc = resolve(raw, doc, schemas)
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            apply_defaults(instance[key], sub, sub_doc, schemas)
    entry = node.get("additionalProperties")
    if isinstance(entry, dict):
        for key, value in instance.items():
            if key not in (node.get("properties") or {}):
                apply_defaults(value, entry, doc, schemas)


def check_config(config: dict, source: str = "config", schemas: Path = SCHEMAS) -> dict:
    """Validate `config` against workflow/schemas/config.schema.yaml and apply the schema's
    defaults, in place; returns it. A mistake raises ConfigError naming the key."""
    import jsonschema
    from referencing import Registry, Resource

    schemas = Path(schemas).resolve()
    root = load_schema(ROOT_SCHEMA, schemas)
    registry = Registry(
        retrieve=lambda uri: Resource.from_contents(load_schema(Path(uri).name, schemas))
    ).with_resource(schemas.as_uri() + "/" + ROOT_SCHEMA, Resource.from_contents(root))
    validator = jsonschema.Draft202012Validator(
        {**root, "$id": schemas.as_uri() + "/" + ROOT_SCHEMA}, registry=registry)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  {'.'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}"
                 for e in errors]
        raise ConfigError(f"{source} does not fit {schemas / ROOT_SCHEMA}:\n" + "\n".join(lines))
    apply_defaults(config, root, root, schemas)
    return config


def load_config(paths: Iterable[str | Path], schemas: Path = SCHEMAS) -> dict:
    """Config files merged in order, as `snakemake --configfile` merges its overlays onto
    config.yaml, then checked and completed by `check_config`."""
    from snakemake.utils import update_config

    paths = [Path(p) for p in paths]
    if not paths:
        raise ConfigError("no config file given (e.g. config.yaml, then overlays)")
    config: dict = {}
    for path in paths:
        try:
            update_config(config, yaml.safe_load(path.read_text()) or {})
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"{path}: cannot read config ({err})") from err
    return check_config(config, " + ".join(map(str, paths)), schemas)


def build(cls: type[T], values: dict, source: str) -> T:
    """`cls` (a settings dataclass) from a config section: keys left out take the dataclass's
    default, an unknown key is an error naming `source`."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {unknown}; expected some of {sorted(known)}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{source}: {err}") from err


def dataclass_defaults(cls: type) -> dict:
    """Each field's default (default factories called), for comparing with a schema."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out
