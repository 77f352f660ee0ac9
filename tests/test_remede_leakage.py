"""The leakage check on realistic notes: true leaks count, context that is no leak
(family and social history, relatives, negation, uncertainty, transplant donors, the
current stay) is set aside and counted by reason, and the report carries ids, not text."""

from __future__ import annotations

import polars as pl
import pytest

from lang1core.remede.config import DEFAULT_LEAKAGE_PATTERNS, BuildConfig
from lang1core.remede.leakage import leakage_report

MORTALITY = DEFAULT_LEAKAGE_PATTERNS["mortality"]
READMISSION = DEFAULT_LEAKAGE_PATTERNS["readmission"]

HP_HEAD = "CHIEF COMPLAINT: dyspnea\nHPI: 78 yo woman with CHF and CKD presents with 3 days of dyspnea.\n"
HP_TAIL = "\nASSESSMENT AND PLAN:\n1. Acute on chronic HFrEF: IV furosemide, daily weights.\n"

# (example id, note, whether it gives the outcome away)
MORTALITY_NOTES = [
    ("fh_section", HP_HEAD + "FAMILY HISTORY:\nFather died at 86 of a stroke. Mother deceased, breast cancer.\n"
     "SOCIAL HISTORY: Widowed, husband passed away in 2015.\n" + HP_TAIL, False),
    ("relative_inline", HP_HEAD + "Her father died at 86; she lives alone." + HP_TAIL, False),
    ("grandfather", HP_HEAD + "Maternal grandfather died of colon cancer at 70." + HP_TAIL, False),
    ("donor", HP_HEAD + "PMH: ESRD status post deceased donor kidney transplant 2012, on tacrolimus." + HP_TAIL,
     False),
    ("negated", HP_HEAD + "ROS: no syncope. Denies near death experiences; never pronounced dead before."
     + HP_TAIL, False),
    ("uncertain", HP_HEAD + "Code status discussed, autopsy preference to be revisited if she died."
     + HP_TAIL, False),
    ("adjective", HP_HEAD + "Exam: pronounced bilateral lower extremity edema." + HP_TAIL, False),
    ("fhx_abbrev", HP_HEAD + "FHx - brother died suddenly at 50, ?MI\nPE: JVP 12 cm." + HP_TAIL, False),
    ("leak_expired", HP_HEAD + "Addendum: patient expired at 03:12 on hospital day 4." + HP_TAIL, True),
    ("leak_tod", HP_HEAD + HP_TAIL + "Time of death 14:02, family at bedside.", True),
    ("leak_after_fh", HP_HEAD + "FAMILY HISTORY: father died of MI.\nHOSPITAL COURSE: Pt was pronounced "
     "at 22:10 after asystole.\n", True),
    ("leak_after_fh_caps", HP_HEAD + "FH: mother deceased.\nHOSPITAL COURSE\nPt expired on day 3.\n", True),
    ("leak_after_fh_blank", HP_HEAD + "Family history: father died of MI.\n\nPt expired on day 3.\n", True),
    ("clean", HP_HEAD + HP_TAIL, False),
]


def frame(notes, label_of=lambda leak: int(leak)) -> pl.DataFrame:
    return pl.DataFrame({"example_id": [f"mortality:{i}" for i, _, _ in notes], "text": [t for _, t, _ in notes],
                         "label": [label_of(leak) for _, _, leak in notes]})


def test_true_leaks_count_and_false_positives_are_set_aside():
    rep = leakage_report(frame(MORTALITY_NOTES), MORTALITY, max_rate=0.01)
    want = sorted(f"mortality:{i}" for i, _, leak in MORTALITY_NOTES if leak)
    assert sorted(rep["examples"]) == want
    assert rep["matched"] == len(want) and not rep["ok"]
    # Every note but "clean" matches some pattern on its face.
    assert rep["raw_matched"] == len(MORTALITY_NOTES) - 1
    reasons = {r for c in rep["patterns"].values() for r in c["set_aside"]}
    assert {"family history section", "social history section", "about someone else", "transplant donor",
            "negated", "uncertain or hypothetical", "other sense of the word"} <= reasons


@pytest.mark.parametrize("eid", [i for i, _, leak in MORTALITY_NOTES if not leak and i != "clean"])
def test_each_false_positive_alone_passes(eid):
    notes = [n for n in MORTALITY_NOTES if n[0] == eid]
    rep = leakage_report(frame(notes), MORTALITY, max_rate=0.0)
    assert rep["ok"] and rep["matched"] == 0 and rep["raw_matched"] == 1


def test_report_counts_per_pattern_with_ids_never_text():
    rep = leakage_report(frame(MORTALITY_NOTES), MORTALITY, max_rate=0.01)
    died = rep["patterns"][r"\bdied\b"]
    assert died["matched"] == 0 and died["raw"] >= 4
    assert "mortality:relative_inline" in died["set_aside_example_ids"]["about someone else"]
    assert rep["patterns"]["time of death"]["example_ids"] == ["mortality:leak_tod"]
    assert rep["patterns"]["time of death"]["matched_positive"] == 1
    flat = repr(rep)
    for _, text, _ in MORTALITY_NOTES:
        for line in text.splitlines():
            assert len(line) < 12 or line not in flat


def test_readmission_of_the_current_stay_is_no_leak():
    notes = [("current", "HPI: She was readmitted to rule out MI after chest pain at home.", False),
             ("current_for", "Pt was readmitted for recurrent cellulitis (3rd stay).", False),
             ("leak", "Discharge addendum: patient was readmitted within 2 weeks with sepsis.", True)]
    rep = leakage_report(frame(notes), READMISSION, max_rate=0.01)
    assert rep["examples"] == ["mortality:leak"]
    assert rep["patterns"][r"\bwas readmitted\b"]["set_aside"] == {"describes the current stay": 2}


def test_allow_list_from_config_sets_template_lines_aside():
    template = "Hospice form: [ ] patient expired at home (RN to complete)."
    notes = [("tmpl", HP_HEAD + template + HP_TAIL, False)]
    assert not leakage_report(frame(notes), [r"\bexpired\b"], 0.0)["ok"]
    cfg = BuildConfig.from_dict({"leakage": {"allow": [r"\[ \] patient expired at home"]}})
    rep = leakage_report(frame(notes), [r"\bexpired\b"], 0.0, list(cfg.leakage_allow))
    assert rep["ok"] and rep["patterns"][r"\bexpired\b"]["set_aside"] == {"allow-listed phrase": 1}


def test_bad_allow_pattern_is_a_clear_config_error():
    with pytest.raises(ValueError, match=r"remede\.leakage\.allow: '\(unclosed'"):
        BuildConfig.from_dict({"leakage": {"allow": ["(unclosed"]}})
