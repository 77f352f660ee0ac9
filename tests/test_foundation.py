"""The skeleton every stage builds on: config validation, CLI, provenance."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lang1core import cli, provenance


def snakemake_dry_run(repo, *extra):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", *extra],
        cwd=repo, capture_output=True, text=True,
    )


def test_default_workflow_plans(repo):
    run = snakemake_dry_run(repo)
    assert run.returncode == 0, run.stderr + run.stdout


def test_test_config_plans(repo):
    run = snakemake_dry_run(repo, "--configfile", "configs/test.yaml")
    assert run.returncode == 0, run.stderr + run.stdout


@pytest.mark.parametrize(
    "override, name",
    [("bogus_key=1", "bogus_key"), ("synth={'n_patientz': 3}", "n_patientz")],
)
def test_unknown_config_key_is_named(repo, override, name):
    run = snakemake_dry_run(repo, "--config", override)
    assert run.returncode != 0
    assert name in run.stdout + run.stderr


def test_mistyped_config_value_is_rejected(repo):
    run = snakemake_dry_run(repo, "--config", "synth={'n_patients': 'many'}")
    assert run.returncode != 0
    assert "many" in run.stdout + run.stderr


def test_cli_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_config_hash_ignores_key_order_but_not_values():
    a = provenance.config_hash({"x": 1, "y": {"z": 2}})
    assert a == provenance.config_hash({"y": {"z": 2}, "x": 1})
    assert a != provenance.config_hash({"x": 1, "y": {"z": 3}})


def test_provenance_hashes_named_files(tmp_path):
    f = tmp_path / "data.bin"
    f.write_bytes(b"abc")
    p = provenance.provenance({"k": 1}, seed=7, data=f)
    assert p["seed"] == 7
    assert p["files"]["data"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    json.dumps(p)  # serialisable as-is


def test_an_uncaught_error_reaches_the_log_file(tmp_path):
    import subprocess
    import sys

    log = tmp_path / "rule.log"
    code = ("from lang1core.logs import setup_logging; "
            f"setup_logging({str(log)!r}); raise ValueError('bad row 7 in notes.csv')")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode != 0
    text = log.read_text()
    assert "bad row 7 in notes.csv" in text and "Traceback" in text
