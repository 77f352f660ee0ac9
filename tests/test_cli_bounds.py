"""Every numeric option of the `lang1` command is bounded, and `evaluate` refuses
probabilities that are not probabilities, naming the file and row."""

from __future__ import annotations

import polars as pl
import pytest
from eval_fixtures import build_all

from lang1core import cli
from lang1core.evaluate.run import PredictionError, check_probabilities


@pytest.mark.parametrize("argv, message", [
    (["validate-export", "x", "--max-reject-rate", "nan"], "'nan' is not a finite number"),
    (["validate-export", "x", "--max-reject-rate", "-0.1"], "-0.1 must be >= 0.0"),
    (["validate-export", "x", "--examples", "many"], "'many' is not an integer"),
    (["evaluate", "r", "--remede", "m", "--out", "o", "--n-bootstrap", "-5"], "-5 must be >= 0"),
    (["evaluate", "r", "--remede", "m", "--out", "o", "--ci-level", "1.5"], "1.5 must be <= 1.0"),
    (["evaluate", "r", "--remede", "m", "--out", "o", "--ci-level", "0"], "0.0 must be > 0.0"),
    (["evaluate", "r", "--remede", "m", "--out", "o", "--alert-rates", "0.1", "inf"], "'inf' is not a finite"),
    (["evaluate", "r", "--remede", "m", "--out", "o", "--calibration-bins", "0"], "0 must be >= 1"),
    (["evaluate", "r", "--remede", "m", "--out", "o", "--min-positives", "-1"], "-1 must be >= 0"),
    (["remede", "v", "o", "--max-note-tokens", "-3"], "-3 must be >= 1"),
    (["remede", "v", "o", "--max-leakage-rate", "2"], "2.0 must be <= 1.0"),
    (["remede", "v", "o", "--los-edges", "2", "-1"], "-1.0 must be >= 0.0"),
    (["remede", "v", "o", "--seed", "-7"], "-7 must be >= 0"),
    (["score", "m", "e.parquet", "--max-note-tokens", "-1"], "-1 must be >= 1"),
    (["score", "m", "e.parquet", "--batch-size", "0"], "0 must be >= 1"),
    (["score", "m", "e.parquet", "--k-shot", "-2"], "-2 must be >= 0"),
    (["figures", "t", "o", "--dpi", "0"], "0 must be >= 1"),
    (["pretrain", "--shards", "s", "--tokenizer", "t", "--out", "o", "--gpus", "-1"], "-1 must be >= 0"),
    (["synth", "o", "--n-patients", "0"], "0 must be >= 1"),
    (["synth", "o", "--n-patients", "1e3"], "'1e3' is not an integer"),
    (["synth", "o", "--seed", "-1"], "-1 must be >= 0"),
    (["synth", "o", "--start-year", "1800"], "1800 must be >= 1990"),
    (["synth", "o", "--end-year", "2200"], "2200 must be <= 2100"),
    (["synth", "o", "--chunk-size", "0"], "0 must be >= 1"),
    (["synth", "o", "--multipart-fraction", "1.5"], "1.5 must be <= 1.0"),
    (["synth", "o", "--multipart-fraction", "nan"], "'nan' is not a finite number"),
    (["synth", "o", "--workers", "0"], "0 must be >= 1"),
    (["serve", "m", "--port", "70000"], "70000 must be <= 65535"),
    (["serve", "m", "--port", "0"], "0 must be >= 1"),
    (["serve", "m", "--max-n", "0"], "0 must be >= 1"),
    (["serve", "m", "--max-tokens", "5000"], "5000 must be <= 4096"),
    (["serve", "m", "--max-body-bytes", "10"], "10 must be >= 1024"),
    (["serve", "m", "--max-prompt-chars", "-1"], "-1 must be >= 1"),
    (["serve", "m", "--max-logprobs", "101"], "101 must be <= 100"),
    (["serve", "m", "--body-timeout", "nan"], "'nan' is not a finite number"),
    (["serve", "m", "--model-timeout", "0"], "0.0 must be >= 1"),
    (["serve", "m", "--max-connections", "0"], "0 must be >= 1"),
    (["serve", "m", "--device", "gpu"], "'gpu' is not auto, cpu, mps, cuda or cuda:N"),
])
def test_out_of_range_options_are_refused(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and argv[0] in err


def test_synth_years_that_contradict_are_a_message_not_a_traceback(tmp_path, capsys):
    assert cli.main(["synth", str(tmp_path / "o"), "--start-year", "2020", "--end-year", "2010"]) == 2
    err = capsys.readouterr().err
    assert "start_year <= end_year" in err and "2020..2010" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()  # refused before anything was written


def frame(**cols):
    return pl.DataFrame({"example_id": [f"x{i}" for i in range(3)], **cols})


@pytest.mark.parametrize("p0, p1, message", [
    ([0.2, float("nan"), 0.5], [0.8, 0.5, 0.5], r"x\.parquet, row 2, column prob_0: probability is NaN"),
    ([0.2, 0.5, 0.5], [0.8, 0.5, float("inf")], r"row 3, column prob_1: probability is infinite"),
    ([0.2, 1.2, 0.5], [0.8, -0.2, 0.5], r"row 2, column prob_0: probability is 1.2, outside \[0, 1\]"),
    ([0.2, 0.5, 0.5], [0.8, 0.5, 0.49], r"x\.parquet, row 3: probabilities sum to 0.99, not 1"),
])
def test_bad_probabilities_are_refused_naming_file_and_row(p0, p1, message):
    with pytest.raises(PredictionError, match=message):
        check_probabilities(frame(prob_0=p0, prob_1=p1), 2, "x.parquet")


def test_probabilities_within_tolerance_and_missing_ones_pass():
    check_probabilities(frame(prob_0=[0.2, None, 0.5], prob_1=[0.8005, 0.5, 0.5]), 2, "x.parquet")


def test_evaluate_command_reports_the_bad_row_without_a_traceback(tmp_path, capsys):
    built = build_all(tmp_path, runs=[("lang1", "zeroshot")], n=30)
    path = next(p for p in built["runs"][("lang1", "zeroshot")] if str(p).endswith("mortality/test.parquet"))
    df = pl.read_parquet(path)
    df.with_columns(prob_1=pl.when(pl.int_range(pl.len()) == 4).then(0.5).otherwise(pl.col("prob_1"))) \
        .with_columns(prob_0=pl.when(pl.int_range(pl.len()) == 4).then(0.6).otherwise(pl.col("prob_0"))) \
        .write_parquet(path)
    code = cli.main(["evaluate", str(tmp_path / "predictions" / "lang1" / "zeroshot"), "--remede",
                     str(tmp_path / "remede"), "--out", str(tmp_path / "m.json"), "--n-bootstrap", "10"])
    err = capsys.readouterr().err
    assert code == 2 and "mortality/test.parquet, row 5: probabilities sum to 1.1, not 1" in err
    assert "Traceback" not in err


def test_remede_options_that_contradict_are_a_message_not_a_traceback(tmp_path, capsys):
    assert cli.main(["remede", str(tmp_path), str(tmp_path / "o"), "--los-edges", "5", "3"]) == 2
    err = capsys.readouterr().err
    assert "remede.los.edges: [5.0, 3.0] must be strictly increasing" in err and "Traceback" not in err
    assert cli.main(["remede", str(tmp_path / "none"), str(tmp_path / "o")]) == 2
    assert "no validated patients table" in capsys.readouterr().err
