"""One settings layer: the config as the workflow's rules and the `lang1` commands read it
(lang1core.settings), each section built into its component's dataclass in one place, and
each default stated once (schema defaults equal to the dataclasses' where both state one)."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
import yaml

from lang1core.audit.settings import AuditSettings, audit_settings
from lang1core.cli import build_parser
from lang1core.figures.common import Options
from lang1core.figures.style import Style
from lang1core.finetune.loop import LoopConfig
from lang1core.finetune.runs import ScoreSettings, TrainSettings, settings_from_config
from lang1core.remede.config import BuildConfig
from lang1core.settings import (
    SCHEMAS, ConfigError, check_config, dataclass_defaults, load_config, load_schema, resolve,
)
from lang1core.train.config import TRAIN_FIELDS, SpikeConfig, TrainConfig, preset_of, train_config

REPO = Path(__file__).resolve().parents[1]
# The shipped configs, each as the workflow reads it (overlays on config.yaml).
CONFIGS = {name: ["config.yaml"] + ([f"configs/{name}.yaml"] if name != "default" else [])
           for name in ("default", "test", "full", "gpu", "paper")}


def config_files(name: str) -> list[Path]:
    return [REPO / f for f in CONFIGS[name]]


def schema_defaults(section: str) -> dict:
    """key -> default of a section's schema, nested objects as dicts of their own defaults."""
    root = load_schema("config.schema.yaml")
    node, doc = resolve(root["properties"][section], root)

    def walk(node, doc):
        out = {}
        for key, raw in node.get("properties", {}).items():
            sub, sub_doc = resolve(raw, doc)
            if "default" in sub:
                out[key] = sub["default"]
            elif "properties" in sub:
                out[key] = walk(sub, sub_doc)
        return out

    return walk(node, doc)


def plain(value):
    """Tuples as lists, so a dataclass default compares with its YAML form."""
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


# schema key -> (dataclass, field) for every setting a section's schema and a dataclass share.
# finetune.k_shot is left out on purpose: the schema's is the kshot recipe's shot count, while
# ScoreSettings.k_shot is the shots of one scoring call (0 unless a recipe asks).
SHARED = {
    "pretrain": {**{k: (TrainConfig, k) for k in TRAIN_FIELDS if k != "spike"},
                 **{f"spike.{f.name}": (SpikeConfig, f.name) for f in dataclasses.fields(SpikeConfig)}},
    "finetune": {"max_note_tokens": (ScoreSettings, "max_note_tokens"),
                 "eval_batch_size": (ScoreSettings, "batch_size"),
                 "max_predict_examples": (ScoreSettings, "max_examples"),
                 "full_splits": (ScoreSettings, "full_splits"),
                 **{k: (LoopConfig, k) for k in ("max_steps", "batch_size", "patience", "eval_every",
                                                 "weight_decay", "betas", "eps")},
                 **{k: (TrainSettings, k) for k in ("lr", "search_trials", "search_steps",
                                                    "max_eval_examples")},
                 "save_checkpoints": (TrainSettings, "save_checkpoint"),
                 **{f"lora.{k}": (TrainSettings, f"lora_{k}") for k in ("rank", "alpha", "dropout", "targets")}},
    "figures": {**{k: (Options, k) for k in ("split", "internal_split", "periods", "primary_model",
                                             "probe_split")},
                "formats": (Style, "formats"), "dpi": (Style, "dpi")},
    "audit": {f.name: (AuditSettings, f.name) for f in dataclasses.fields(AuditSettings) if f.name != "seed"},
    "remede": {k: (BuildConfig, k) for k in ("tasks", "encounter_classes", "mortality_dispositions",
                                             "denial_statuses", "split_fractions", "split_by",
                                             "seen_scope", "probe_splits")},
}


def disagreements(section: str, defaults: dict) -> list[str]:
    """Shared keys whose schema default differs from the dataclass's default."""
    out = []
    for key, (cls, name) in SHARED[section].items():
        value = defaults
        for part in key.split("."):
            value = value.get(part, {}) if isinstance(value, dict) else {}
        if value == {}:
            continue  # the schema states no default for it: nothing to disagree with
        own = dataclass_defaults(cls)[name]
        if plain(value) != plain(own):
            out.append(f"{section}.{key}: schema {value!r} != {cls.__name__}.{name} {own!r}")
    return out


@pytest.mark.parametrize("section", sorted(SHARED))
def test_schema_defaults_agree_with_the_dataclasses(section):
    assert not disagreements(section, schema_defaults(section))


def test_every_training_setting_has_a_schema_key_with_the_dataclass_default():
    """TrainConfig is the study's values; the pretrain schema states each one, so a field added
    to either side without the other fails here."""
    defaults = schema_defaults("pretrain")
    assert set(TRAIN_FIELDS) <= set(defaults)
    assert set(defaults["spike"]) == {f.name for f in dataclasses.fields(SpikeConfig)}


@pytest.mark.parametrize("section,key,value", [("pretrain", "tokens", 131072), ("pretrain", "lr", 1e-3),
                                               ("finetune", "eps", 1e-6), ("figures", "split", "test")])
def test_the_agreement_check_catches_a_changed_default(section, key, value):
    defaults = copy.deepcopy(schema_defaults(section))
    defaults[key] = value
    assert [d for d in disagreements(section, defaults) if d.startswith(f"{section}.{key}:")]


def test_check_config_fills_defaults_inside_every_section():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    del config["pretrain"]["tokens"], config["pretrain"]["spike"]["window"]
    del config["finetune"]["lora"], config["remede"]["lm_eval_splits"], config["held_out_site"]
    check_config(config)
    assert config["pretrain"]["tokens"] == TrainConfig().tokens
    assert config["pretrain"]["spike"]["window"] == SpikeConfig().window
    assert config["finetune"]["lora"] == {"rank": 8, "alpha": 16, "dropout": 0.05, "targets": ["q", "v"]}
    assert config["remede"]["lm_eval_splits"] == ["test", "temporal", "temporal_2024", "external"]
    assert config["held_out_site"] is None


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_shipped_configs_set_every_key_that_has_a_default(name):
    """Filling in defaults changes none of the shipped configs: config.yaml states every key,
    so the laptop run never silently takes a study-sized default."""
    from snakemake.utils import update_config

    raw: dict = {}
    for path in config_files(name):
        update_config(raw, yaml.safe_load(path.read_text()))
    assert check_config(copy.deepcopy(raw)) == raw


@pytest.mark.parametrize("change,where", [
    ({"pretrain": {"tokenz": 5}}, "tokenz"),
    ({"pretrain": {"lr": "fast"}}, "pretrain.lr"),
    ({"finetune": {"lora": {"rank": 0}}}, "finetune.lora.rank"),
])
def test_bad_config_is_refused_naming_the_key(tmp_path, change, where):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(change))
    with pytest.raises(ConfigError, match=where) as err:
        load_config([REPO / "config.yaml", bad])
    assert "bad.yaml" in str(err.value)


def test_overlays_merge_in_order():
    base = yaml.safe_load((REPO / "config.yaml").read_text())
    test = yaml.safe_load((REPO / "configs/test.yaml").read_text())
    config = load_config(config_files("test"))
    assert config["pretrain"]["tokens"] == test["pretrain"]["tokens"] != base["pretrain"]["tokens"]
    assert config["pretrain"]["betas"] == base["pretrain"]["betas"]  # untouched by the overlay


def test_train_config_takes_the_config_then_the_model_overrides(tmp_path):
    overlay = tmp_path / "o.yaml"
    overlay.write_text(yaml.safe_dump({"seed": 5, "pretrain": {"models": {
        "lang1": {"mix": "clinical_general", "tokens": 4096, "lr": 0.002, "preset": "smol-100m"}}}}))
    config = load_config([REPO / "config.yaml", overlay])
    section = config["pretrain"]
    for model, own in section["models"].items():
        cfg = train_config(config, model)
        assert cfg.seed == 5
        for key in TRAIN_FIELDS:
            value = dataclasses.asdict(cfg.spike) if key == "spike" else getattr(cfg, key)
            assert plain(value) == plain(own.get(key, section[key])), (model, key)
    tokens = train_config(config, "lang1").tokens, train_config(config, "generalist").tokens
    assert tokens == (4096, section["tokens"])
    assert (preset_of(config, "lang1"), preset_of(config, "generalist")) == ("smol-100m", None)
    with pytest.raises(ConfigError, match="nosuch"):
        train_config(config, "nosuch")


def cli(*argv):
    return build_parser().parse_args(list(argv))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_pretrain_cli_builds_what_the_rule_builds(name):
    """`lang1 pretrain --config ... --model M` trains with the settings, preset, model section
    and GPU count that workflow/rules/pretrain.smk gives rule `pretrain` for M."""
    from lang1core.train.cli import run_spec

    files = config_files(name)
    rule_config = load_config(files, schemas=REPO / "workflow" / "schemas")  # what common.smk checks
    for model in rule_config["pretrain"]["models"]:
        spec, gpus = run_spec(cli("pretrain", "--config", *map(str, files), "--model", model,
                                  "--shards", "s", "--tokenizer", "t", "--out", "o"))
        assert TrainConfig.from_dict(spec["train"]) == train_config(rule_config, model)
        assert spec["preset"] == preset_of(rule_config, model)
        assert spec["model_section"] == rule_config["model"]
        assert gpus == rule_config["pretrain"]["gpus"]
        assert spec["label"] == model


def test_pretrain_cli_without_config_uses_the_study_settings_and_its_changes():
    from lang1core.train.cli import run_spec

    spec, gpus = run_spec(cli("pretrain", "--shards", "s", "--tokenizer", "t", "--out", "o",
                              "--set", "tokens=4096", "--seed", "7"))
    assert TrainConfig.from_dict(spec["train"]) == dataclasses.replace(TrainConfig(), tokens=4096, seed=7)
    assert gpus == 0
    with pytest.raises(ConfigError, match="tokenz"):
        run_spec(cli("pretrain", "--shards", "s", "--tokenizer", "t", "--out", "o", "--set", "tokenz=1"))


def test_score_cli_builds_what_the_rules_build():
    from lang1core.finetune.cli import score_settings

    files = [str(p) for p in config_files("test")]
    config = load_config(files)
    built, _ = settings_from_config(config["finetune"], config["seed"])
    args = cli("score", "model", "examples.parquet", "--config", *files)
    assert score_settings(args) == built
    changed = score_settings(cli("score", "model", "examples.parquet", "--config", *files, "--k-shot", "2"))
    assert changed == dataclasses.replace(built, k_shot=2)
    assert score_settings(cli("score", "model", "examples.parquet")) == ScoreSettings()


def test_figures_cli_builds_what_the_rules_build():
    from lang1core.figures.cli import figure_options
    from lang1core.figures.common import options_from_config

    files = [str(p) for p in config_files("test")]
    config = load_config(files)
    built = options_from_config(config["figures"], config["source"])  # workflow/scripts/figures_render.py
    assert figure_options(cli("figures", "t", "o", "--config", *files)) == built
    assert figure_options(cli("figures", "t", "o", "--config", *files, "--split", "test")) == \
        dataclasses.replace(built, split="test")
    assert figure_options(cli("figures", "t", "o")) == Options()


def test_remede_cli_builds_what_the_rules_build():
    from lang1core.remede.command import build_settings

    files = [str(p) for p in config_files("test")]
    config = load_config(files)
    built = BuildConfig.from_dict(config["remede"], seed=config["seed"],  # workflow/scripts/remede_tasks.py
                                  held_out_site=config["held_out_site"])
    assert build_settings(cli("remede", "v", "o", "--config", *files)) == \
        (built, config["finetune"]["max_note_tokens"])
    cfg, _ = build_settings(cli("remede", "v", "o", "--config", *files, "--split-by", "encounter", "--seed", "9"))
    assert cfg == dataclasses.replace(built, split_by="encounter", seed=9)
    assert build_settings(cli("remede", "v", "o")) == (BuildConfig(), ScoreSettings().max_note_tokens)


def test_audit_settings_come_from_the_section_and_the_master_seed(tmp_path):
    overlay = tmp_path / "o.yaml"
    overlay.write_text(yaml.safe_dump({"seed": 11, "audit": {"n_notes": 5, "thresholds": {"max_mia_auroc": 0.7}}}))
    s = audit_settings(load_config([REPO / "config.yaml", overlay]))
    assert (s.seed, s.n_notes, s.thresholds["max_mia_auroc"]) == (11, 5, 0.7)
    assert s.thresholds["max_exposure"] == AuditSettings().thresholds["max_exposure"]


def test_schemas_found_beside_the_package():
    assert (SCHEMAS / "config.schema.yaml").is_file()
