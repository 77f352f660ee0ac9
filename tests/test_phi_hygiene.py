"""Patient data stays in data files: a run over notes, ids and dates carrying a marker string
leaves the marker in no message, log, report or table other than the parquet data files, and
those are readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl
import pytest
from export_helpers import make_export, valid_rows

from lang1core import cli
from lang1core.private_files import make_private

MARKER = "ZQX7MARKER"


def marked_rows():
    rows = valid_rows()
    for r in rows["notes"]:
        r[5] = f"{r[5]} {MARKER} seen in clinic."
    # Rejected rows whose identifier, date and text all carry the marker.
    rows["notes"].append([f"N{MARKER}", "P9", "", "progress", "2021-03-02T09:00:00", f"{MARKER} orphan note"])
    rows["notes"].append(["N9", "P1", "E1", "progress", f"{MARKER}-03-02", f"{MARKER} undated note"])
    rows["patients"].append([f"P{MARKER}", f"{MARKER[:4]}-01-01", "female", "", "", ""])
    rows["encounters"].append([f"E{MARKER}", "P1", "site_a", "medicine", "inpatient", "elective",
                               "2021-06-01T08:00", "2021-05-01T08:00", "home", "medicare"])
    return rows


def files_holding(root: Path, marker: bytes) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and marker in p.read_bytes()}


def test_marker_stays_in_data_files_and_they_are_private(tmp_path, capsys):
    src = make_export(tmp_path / "export", marked_rows())
    validated, remede = tmp_path / "validated", tmp_path / "remede"
    code = cli.main(["validate-export", str(src), "--out", str(validated), "--max-reject-rate", "1",
                     "--skip-readiness"])
    assert code == 0
    assert cli.main(["remede", str(validated), str(remede), "--log", str(tmp_path / "remede.log")]) == 0
    cap = capsys.readouterr()
    text = cap.out + cap.err + (tmp_path / "remede.log").read_text()
    assert "rejected rows by reason" in cap.out and MARKER not in text

    for root in (validated, remede):
        leaked = {f for f in files_holding(root, MARKER.encode()) if not f.endswith(".parquet")}
        assert not leaked, leaked
    # The marker did reach the data files (so the scan above could have found it).
    assert pl.read_parquet(validated / "notes.parquet")["text"].str.contains(MARKER).all()
    assert pl.read_parquet(validated / "rejected" / "notes.parquet")["note_id"].str.contains(MARKER).any()
    assert pl.read_parquet(remede / "los" / "train.parquet")["text"].str.contains(MARKER).all()

    for root in (validated, remede):
        for p in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(p.stat().st_mode)
            assert mode == (0o700 if p.is_dir() else 0o600), (p.relative_to(tmp_path), oct(mode))
    assert not (validated / ".staging").exists()


def test_values_show_on_the_terminal_only_when_asked(tmp_path, capsys):
    src = make_export(tmp_path / "export", marked_rows())
    out = tmp_path / "validated"
    cli.main(["validate-export", str(src), "--out", str(out), "--max-reject-rate", "1", "--skip-readiness",
              "--show-values"])
    cap = capsys.readouterr()
    assert "rejected values (terminal only)" in cap.out and f"'{MARKER}-03-02'" in cap.out
    assert MARKER not in cap.err  # the log stream stays clean
    assert not {f for f in files_holding(out, MARKER.encode()) if not f.endswith(".parquet")}


def test_modes_are_configurable(tmp_path, capsys):
    import yaml

    src = make_export(tmp_path / "export")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"export": {"file_mode": "0640", "dir_mode": "0750"}}))
    out = tmp_path / "validated"
    assert cli.main(["validate-export", str(src), "--out", str(out), "--config", str(cfg), "--quiet"]) == 0
    assert stat.S_IMODE((out / "notes.parquet").stat().st_mode) == 0o640
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    cfg.write_text(yaml.safe_dump({"export": {"file_mode": "rw-------"}}))
    assert cli.main(["validate-export", str(src), "--config", str(cfg), "--quiet"]) == 2
    assert "export.file_mode: 'rw-------' is not an octal file mode" in capsys.readouterr().err


def test_make_private_sets_every_level(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.parquet").write_bytes(b"x")
    make_private(tmp_path / "a")
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b" / "f.parquet").stat().st_mode) == 0o600


def test_configured_modes_come_from_the_export_section():
    from lang1core.private_files import config_modes

    assert config_modes(None) == (0o600, 0o700)
    assert config_modes({"export": {"file_mode": "0640", "dir_mode": "750"}}) == (0o640, 0o750)
    with pytest.raises(ValueError, match="export.dir_mode: 'rwx' is not an octal file mode"):
        config_modes({"export": {"dir_mode": "rwx"}})


def test_corpus_shards_and_predictions_are_created_owner_only(tmp_path, capsys):
    """Every file the corpus, shard and prediction stages write that holds the marker note
    (or decodes to note text: token shards; or names patients: predictions) is 0600 in 0700
    folders, even under a permissive umask."""
    from lang1core.corpus.clean import clean_notes
    from lang1core.corpus.extract import extract_notes
    from lang1core.corpus.mix import build_mix
    from lang1core.corpus.shards import write_shards
    from lang1core.corpus.tokenizer import sample_lines, train_tokenizer
    from lang1core.finetune.runs import run_tfidf

    src = make_export(tmp_path / "export", marked_rows())
    validated, remede = tmp_path / "validated", tmp_path / "remede"
    assert cli.main(["validate-export", str(src), "--out", str(validated), "--max-reject-rate", "1",
                     "--skip-readiness", "--quiet"]) == 0
    assert cli.main(["remede", str(validated), str(remede)]) == 0
    capsys.readouterr()
    old_umask = os.umask(0o022)  # what a shared machine often has: new files world-readable
    try:
        corpus, shards, predictions = tmp_path / "corpus", tmp_path / "shards" / "mix", tmp_path / "predictions"
        extract_notes(validated, corpus / "notes.parquet", corpus / "rejected.parquet")
        clean_notes(corpus / "notes.parquet", corpus / "clean.parquet", corpus / "dropped.parquet", min_words=3)
        build_mix({"clinical": 1}, corpus / "clean.parquet", None, corpus / "mix" / "train.parquet",
                  corpus / "mix" / "val.parquet", cutoff=None, val_fraction=0.5, min_val_documents=1)
        spm = tmp_path / "tokenizer" / "spm.model"
        train_tokenizer(sample_lines(corpus / "mix" / "train.parquet", {"clinical": 1}, 10**7, 0), spm, 300)
        write_shards({"train": corpus / "mix" / "train.parquet", "val": corpus / "mix" / "val.parquet"}, spm,
                     shards, {"clinical": 1.0}, shard_tokens=64)
        run_tfidf(task="los", remede_dir=remede, splits=["test"], out_dir=predictions / "tfidf" / "los",
                  config={}, seed=0)
    finally:
        os.umask(old_umask)

    holding = [corpus / f for f in files_holding(corpus, MARKER.encode())]
    assert {p.name for p in holding} >= {"notes.parquet", "clean.parquet", "train.parquet"}
    holding += [*shards.rglob("*.bin"), *predictions.rglob("*.parquet")]
    assert any(p.suffix == ".bin" for p in holding) and any(p.parent.name == "los" for p in holding)
    for p in holding:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, (p.relative_to(tmp_path), oct(p.stat().st_mode))
        assert stat.S_IMODE(p.parent.stat().st_mode) == 0o700, p.parent.relative_to(tmp_path)
    # and nothing half written was left beside them
    assert not [p for p in tmp_path.rglob(".*") if p.name.endswith((".partial", ".old"))]
