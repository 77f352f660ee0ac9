"""Text measures (lang1core.synth.measures) on small constructed note frames."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lang1core.synth import measures as M

HP = "Chief Complaint: chest pain\nHistory of Present Illness: 70 yo man.\nAssessment & Plan: admit.\n"


def notes_frame(rows: list[tuple]) -> pl.DataFrame:
    """(note_id, note_type, text[, part]) rows -> a notes frame as the export has it."""
    rows = [r if len(r) == 4 else (*r, 1) for r in rows]
    return pl.DataFrame(rows, schema={"note_id": pl.String, "note_type": pl.String, "text": pl.String,
                                      "part": pl.Int64}, orient="row")


def test_section_headers_take_capitalised_line_starts_of_at_most_six_words():
    text = ("Chief Complaint: pain\n"
            "  Assessment & Plan:\n"
            "lower case start: not a header\n"
            "Patient states he was seen on 12/01 at 10:30\n"   # colon too far in: > 6 words
            "One two three four five six: a header\n"
            "One two three four five six seven: not one\n"
            "Exam shows BP: 120/80 with Lungs: clear\n")      # only the line's first phrase
    assert M.section_headers(text) == ("Chief Complaint", "Assessment & Plan", "One two three four five six",
                                       "Exam shows BP")


def test_section_headers_expression_matches_the_python_function():
    texts = [HP, "Dates:\nadmitted 01/02/2020\n\nHospital  Course: stable", "no headers here", "",
             "A:\nB b:\nNot a header because of 7 words: x\nC/D (E): y"]
    got = pl.DataFrame({"text": texts}).select(M.section_headers_expr())["text"].to_list()
    assert [tuple(g) for g in got] == [M.section_headers(t) for t in texts]


def test_section_variants_count_distinct_ordered_header_tuples_per_type():
    df = notes_frame([
        ("n1", "history_and_physical", HP),
        ("n2", "history_and_physical", HP.replace("chest pain", "dyspnea")),  # same structure
        ("n3", "history_and_physical", "Assessment & Plan: x\nChief Complaint: y\n"),  # other order
        ("n4", "discharge_summary", HP),
        ("n5", "progress", "Subjective: ok"),
    ])
    out = M.section_variants(df, ["history_and_physical", "discharge_summary"])
    assert dict(zip(out["note_type"], out["variants"])) == {"discharge_summary": 1, "history_and_physical": 2}
    assert dict(zip(out["note_type"], out["notes"])) == {"discharge_summary": 1, "history_and_physical": 3}


def test_multi_part_notes_are_joined_before_measuring():
    first, second = "Chief Complaint: pain", "Assessment & Plan: admit"
    df = notes_frame([
        ("a", "history_and_physical", f"{first}\n\n{second}", 1),
        ("b", "history_and_physical", second, 2),  # written second: parts are ordered by `part`
        ("b", "history_and_physical", first, 1),
    ])
    assert M.section_variants(df)["variants"].to_list() == [1]
    dup = M.duplicate_share(df)
    assert dup["notes"].to_list() == [2] and dup["distinct"].to_list() == [1]


def test_duplicate_share_masks_digit_runs_only():
    df = notes_frame([
        ("1", "nursing", "BP 120/80, HR 72. Resting."),
        ("2", "nursing", "BP 135/90, HR 101. Resting."),  # same once digits are masked
        ("3", "nursing", "BP 120/80, HR 72. Ambulating."),  # a word differs
        ("4", "nursing", "BP 1/8, HR 7. Resting."),  # every digit run masks to one symbol
        ("5", "radiology", "No acute findings."),
    ])
    out = M.duplicate_share(df)
    by = {r["note_type"]: r for r in out.iter_rows(named=True)}
    assert by["nursing"]["notes"] == 4 and by["nursing"]["distinct"] == 2
    assert by["nursing"]["share"] == pytest.approx(0.5)
    assert by["radiology"]["share"] == 0.0


def test_notes_without_required_columns_are_named():
    with pytest.raises(ValueError, match="note_type"):
        M.duplicate_share(pl.DataFrame({"note_id": ["1"], "text": ["x"]}))


def test_word_types_are_lowercased_letter_runs_and_stop_at_per():
    texts = ["BP 120/80 mg", "bp MG q6h", "fever", "cough"]
    wt = M.word_types([texts[:2], texts[2:]], per=3)
    # First three notes: bp, mg, q, h, fever (digits split and never count).
    assert (wt.notes, wt.types, wt.extrapolated) == (3, 5, False)
    assert wt.per_estimate == 5
    assert wt.curve == [(2, 4), (3, 5)]


def test_word_types_extrapolate_with_heaps_law():
    # Note i holds one word per k = 0..floor(sqrt(i)) (k's decimal digits spelt as letters), so
    # n notes hold floor(sqrt(n)) + 1 distinct words: Heaps' law with beta 0.5 by construction.
    def note(i: int) -> str:
        return " ".join("w" + "".join("abcdefghij"[int(d)] for d in str(k)) for k in range(int(np.sqrt(i)) + 1))

    texts = [note(i) for i in range(1, 401)]
    wt = M.word_types((texts[i:i + 20] for i in range(0, 400, 20)), per=10_000)
    assert wt.extrapolated and wt.notes == 400 and wt.types == 21
    assert wt.heaps[1] == pytest.approx(0.5, abs=0.05)
    assert wt.per_estimate == pytest.approx(101, rel=0.15)  # sqrt(10,000) + 1


def test_word_counts_split_on_whitespace():
    assert M.word_counts(pl.Series(["a b  c\n d", "", "one"])).tolist() == [4, 0, 1]


def drift_notes() -> pl.DataFrame:
    rows = []
    for site in ("s1", "s2"):
        for period, n in (("early", 30), ("late", 30)):
            for i in range(n):
                words = ["patient", "stable"]
                if period == "late":
                    words.append("telehealth")  # new in the late period, at both sites
                if period == "early" and i < 25:
                    words.append("fever")  # common early, absent late
                if site == "s1":
                    words.append("smithson")  # a name: one site only
                if i < 5:
                    words.append("rare")  # fewer than 20 notes per site
                rows.append((site, period, " ".join(words)))
    return pl.DataFrame(rows, schema=["site", "period", "text"], orient="row")


def test_drift_tokens_rank_vocabulary_by_largest_period_log_ratio():
    a, b = M.token_period_counts(drift_notes())
    top = M.drift_tokens(a, b, ["early", "late"], top=10)
    # telehealth (0 -> 60 occurrences) moves further than fever (50 -> 0), both far beyond the rest.
    assert top["tok"].to_list()[:2] == ["telehealth", "fever"]
    kept = set(top["tok"].to_list())
    assert "smithson" not in kept and "rare" not in kept
    row = top.filter(pl.col("tok") == "telehealth").row(0, named=True)
    assert (row["rises_to"], row["from"]) == ("late", "early")
    assert row["early"] == 0.0 and row["late"] > 0
    # Stable words rank below the moving ones.
    assert top["tok"].to_list().index("stable") > 1


def test_drift_counts_sum_over_batches():
    notes = drift_notes()
    whole = M.drift_tokens(*M.token_period_counts(notes), ["early", "late"])
    parts = [M.token_period_counts(notes.slice(i, 17)) for i in range(0, notes.height, 17)]
    batched = M.drift_tokens(pl.concat([p[0] for p in parts]), pl.concat([p[1] for p in parts]), ["early", "late"])
    assert batched.equals(whole)
