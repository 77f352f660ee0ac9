"""The synthetic hospital's lexicon: required concepts, form weights, years, sites, normalization,
the data file against its packages, and that no incidental condition can move the Charlson index."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from lang1core.charlson import charlson_index
from lang1core.synth import lexicon_sources
from lang1core.synth.catalog import COVID, COVID_DRUGS, CONDITIONS, DEPARTMENTS
from lang1core.synth.lexicon import (
    CATALOG_DRUGS, KINDS, Lexicon, concept_token, drug_key, incidental_conditions, incidental_p, lexicon,
    person_names,
)

SYMPTOMS = ("dyspnea chest_pain fever chills cough nausea vomiting abdominal_pain diarrhea melena hematemesis "
            "dysuria confusion weakness syncope palpitations leg_swelling headache dizziness fatigue weight_loss "
            "back_pain rash wheezing hemoptysis seizure falls poor_intake insomnia anxiety").split()
FINDINGS = ("crackles wheezes diminished_breath_sounds murmur jvd peripheral_edema abdominal_tenderness guarding "
            "ascites jaundice asterixis focal_weakness aphasia altered_mental_status tachycardia hypotension hypoxia "
            "effusion consolidation cardiomegaly pulmonary_edema ground_glass pressure_ulcer cellulitis_skin "
            "cachexia").split()
PROCEDURES = ("intubation central_line cardiac_cath pci cabg ercp cholecystectomy appendectomy colectomy "
              "hip_arthroplasty knee_arthroplasty thoracentesis paracentesis lumbar_puncture hemodialysis transfusion "
              "endoscopy colonoscopy bronchoscopy chest_tube picc mechanical_ventilation vasopressors "
              "cesarean_section tpa").split()
EVENTS = ("aki delirium fall c_diff dvt pe gi_bleed hypotension_episode rapid_response icu_transfer sepsis "
          "pneumonia_hospital uti_catheter hyperkalemia hypoglycemia arrhythmia left_ama code_blue "
          "pressure_injury").split()


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return lexicon()


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def test_required_concepts_present(lex):
    required = [f"condition:{c.key}" for c in CONDITIONS]
    required += [f"diagnosis:{dx[0]}" for d in DEPARTMENTS for dx in d.diagnoses] + [f"diagnosis:{COVID[0]}"]
    required += [f"symptom:{k}" for k in SYMPTOMS] + [f"finding:{k}" for k in FINDINGS]
    required += [f"procedure:{k}" for k in PROCEDURES] + [f"event:{k}" for k in EVENTS]
    drugs = [drug_key(d) for c in CONDITIONS for d, _, _ in c.drugs] + [drug_key(d) for d, _, _ in COVID_DRUGS]
    required += drugs
    assert [k for k in required if k not in lex.concepts] == []
    assert set(CATALOG_DRUGS) == set(drugs)
    assert {"drug:furosemide", "drug:sacubitril-valsartan", "drug:semaglutide"} <= set(CATALOG_DRUGS)
    # The pool of other drugs and the incidental conditions are large.
    assert len(lex.keys("drug")) - len(CATALOG_DRUGS) >= 500
    assert 300 <= len(incidental_conditions()) <= 5000
    for kind in KINDS:
        assert all(lex[k].kind == kind and k.startswith(kind + ":") for k in lex.keys(kind))
    with pytest.raises(KeyError, match="unknown concept kind"):
        lex.keys("organism")
    with pytest.raises(KeyError, match="no concept 'condition:nope'"):
        lex.draw("condition:nope", np.random.default_rng(0), 1)


def test_catalogue_words_and_icd_descriptions_are_forms(lex):
    for c in CONDITIONS:
        forms = {f.lower() for f in lex[f"condition:{c.key}"].forms}
        assert c.words[0].lower() == lex[f"condition:{c.key}"].forms[0].lower()
        assert len(forms) >= 8, c.key
    src = lexicon_sources.load()
    chf = {f.lower() for f in lex["condition:chf"].forms}
    assert src["icd"]["I50.9"]["desc"].lower() in chf  # "Heart failure, unspecified"
    assert {"cap", "pna", "pneumonia"} <= {f.lower() for f in lex["diagnosis:J18.9"].forms}
    forms = {f.lower(): c.key for c in lex.concepts.values() for f in c.forms}
    assert forms["lasix"] == "drug:furosemide" and forms["entresto"] == "drug:sacubitril-valsartan"
    assert forms["ozempic"] == "drug:semaglutide" and forms["hctz"] == "drug:hydrochlorothiazide"


def test_lexicon_is_deterministic():
    a, b = Lexicon(lexicon_sources.load()), Lexicon(lexicon_sources.load())
    assert list(a.concepts) == list(b.concepts)
    for k, c in a.concepts.items():
        d = b.concepts[k]
        assert c.forms == d.forms
        np.testing.assert_array_equal(c.task_p, d.task_p)
        np.testing.assert_array_equal(c.corpus_p, d.corpus_p)
        np.testing.assert_array_equal(c.since, d.since)
    rng = lambda: np.random.default_rng(7)
    assert list(a.draw("condition:chf", rng(), 50, site=2)) == list(b.draw("condition:chf", rng(), 50, site=2))


def test_probabilities_sum_to_one_and_corpus_is_flatter(lex):
    for c in lex.concepts.values():
        n = len(c.forms)
        assert c.task_p.shape == c.corpus_p.shape == c.since.shape == (n,), c.key
        assert np.isclose(c.task_p.sum(), 1) and np.isclose(c.corpus_p.sum(), 1), c.key
        assert (c.task_p > 0).all() and (c.corpus_p > 0).all(), c.key
        if n >= 3:
            assert _entropy(c.corpus_p) > _entropy(c.task_p), c.key
        if n >= 4:  # forms outside the task's top three carry more mass in corpus notes
            tail = np.argsort(-c.task_p, kind="stable")[3:]
            assert c.corpus_p[tail].sum() > c.task_p[tail].sum(), c.key
        assert c.task_p[0] == c.task_p.max(), c.key  # the canonical form leads task notes
        assert c.since[0] == 0 or (c.since == c.since[0]).all(), c.key  # a concept is never wordless


def test_draw_respects_since(lex):
    rng = np.random.default_rng(0)
    chf = lex["condition:chf"]
    late = {f for f, s in zip(chf.forms, chf.since) if s > 2009}
    assert "HFpEF" in late
    for corpus in (False, True):
        for site in range(4):
            assert not set(lex.draw("condition:chf", rng, 20_000, corpus=corpus, site=site, year=2009)) & late
    assert {"Entresto", "sacubitril/valsartan"} & set(lex.draw("drug:sacubitril-valsartan", rng, 2000, year=2020))
    assert "Entresto" not in set(lex.draw("drug:sacubitril-valsartan", rng, 2000, corpus=True, year=2014))
    # Per-row years: rows before the launch never get the brand.
    years = np.where(np.arange(4000) % 2 == 0, 2010, 2022)
    out = lex.draw("drug:semaglutide", rng, 4000, year=years, site=np.arange(4000))
    assert "Ozempic" not in set(out[years == 2010]) and "Ozempic" in set(out[years == 2022])
    with pytest.raises(ValueError, match="no form in use in 2015"):
        lex.draw(f"diagnosis:{COVID[0]}", rng, 1, year=2015)


def test_draw_follows_probabilities(lex):
    rng = np.random.default_rng(1)
    for corpus in (False, True):
        p = lex.probabilities("symptom:dyspnea", corpus=corpus, site=1, year=2020)
        forms = lex["symptom:dyspnea"].forms
        out = lex.draw("symptom:dyspnea", rng, 50_000, corpus=corpus, site=1, year=2020)
        freq = np.array([(out == f).mean() for f in forms])
        assert np.abs(freq - p).max() < 0.01
    # Per-row sites: each row follows its own site's distribution.
    sites = np.arange(60_000) % 3
    out = lex.draw("symptom:dyspnea", rng, 60_000, site=sites, year=2020)
    for s in range(3):
        p = lex.probabilities("symptom:dyspnea", site=s, year=2020)
        freq = np.array([(out[sites == s] == f).mean() for f in lex["symptom:dyspnea"].forms])
        assert np.abs(freq - p).max() < 0.015


def test_sites_differ_and_wrap(lex):
    key = "condition:dm"
    ps = [lex.probabilities(key, site=s) for s in range(4)]
    assert all(np.argmax(ps[i]) != np.argmax(ps[j]) or np.abs(ps[i] - ps[j]).max() > 0.05
               for i in range(4) for j in range(i))
    np.testing.assert_array_equal(lex.probabilities(key, site=5), ps[1])
    # Site factors multiply the base weights: the ratio to the base is fixed per form.
    c = lex[key]
    ratio = ps[2] / c.task_p
    np.testing.assert_allclose(ratio / ratio[0], lex.site_factors(key, 2) / lex.site_factors(key, 2)[0])
    rng = np.random.default_rng(2)
    a, b = (lex.draw(key, rng, 20_000, site=s) for s in (0, 3))
    top_a, top_b = (max(set(x), key=list(x).count) for x in (a[:3000], b[:3000]))
    fa, fb = (np.array([(x == f).mean() for f in c.forms]) for x in (a, b))
    assert np.abs(fa - fb).max() > 0.03, (top_a, top_b)


def test_misspellings_are_single_edits(lex):
    chf = lex["condition:chf"]
    typos = [f for f, t in zip(chf.forms, chf.typo) if t]
    assert typos and all(c.typo.sum() <= 2 for c in lex.concepts.values())
    for t in typos:
        src = [f for f, is_t in zip(chf.forms, chf.typo) if not is_t and abs(len(f) - len(t)) <= 1
               and f.split(" ")[0][0] == t.split(" ")[0][0]]
        assert any(_one_edit(f, t) for f in src), t
    # Misspellings are rare in task notes and never a concept's most likely form.
    for c in lex.concepts.values():
        if c.typo.any():
            assert c.task_p[c.typo].max() < c.task_p[~c.typo].min(), c.key


def _one_edit(a: str, b: str) -> bool:
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def test_concept_of_form_is_unambiguous(lex):
    cof = lex.concept_of_form()
    owners: dict[str, list[str]] = {}
    for c in lex.concepts.values():
        for f in c.forms:
            owners.setdefault(f.lower(), []).append(c.key)
    assert set(cof) == set(owners)
    for form, keys in owners.items():
        assert cof[form] in keys
        if len(keys) > 1:
            # Only canonical forms are shared, and the first kind in priority keeps the form.
            assert all(lex[k].forms[0].lower() == form for k in keys if k != cof[form]), (form, keys)
    assert cof["hfref"] == "condition:chf" and cof["sob"] == "symptom:dyspnea"


def test_normalize_maps_forms_and_leaves_other_text(lex):
    chf = lex["condition:chf"]
    typo = next(f for f, t in zip(chf.forms, chf.typo) if t)
    text = f"Pt w/ hfref and {typo}, on LASIX and Entresto; c/o SOB. Vision: presbyopia. Plan: ASAP discharge home."
    out = lex.normalize(text)
    tok = concept_token
    assert out == (f"Pt w/ {tok('condition:chf')} and {tok('condition:chf')}, on {tok('drug:furosemide')} and "
                   f"{tok('drug:sacubitril-valsartan')}; c/o {tok('symptom:dyspnea')}. Vision: "
                   f"{tok('incidental:H52.4')}. Plan: ASAP discharge home.")
    # Longest form first: "acute on chronic systolic heart failure" is one diagnosis, not CHF.
    assert lex.normalize("acute on chronic systolic heart failure") == tok("diagnosis:I50.23")
    assert concept_token("diagnosis:J18.9") == "CONCEPT_diagnosis_J18_9"
    # Whole words only: "ASA" is a form, NASA and ASAP are not.
    assert lex.normalize("NASA and ASAP; walked 200 feet.") == "NASA and ASAP; walked 200 feet."
    # Every form of a few concepts normalizes to its owner's token.
    cof = lex.concept_of_form()
    for key in ("condition:afib", "diagnosis:K56.609", "drug:apixaban", "procedure:pci"):
        for f in lex[key].forms:
            assert lex.normalize(f) == tok(cof[f.lower()]), f


def test_incidental_conditions_never_score_charlson(lex):
    keys = incidental_conditions()
    codes = [k.split(":", 1)[1] for k in keys]
    scored = charlson_index(pl.DataFrame({"encounter_id": codes, "icd10_code": codes}))
    assert scored.filter(pl.col("cci") > 0).height == 0
    # The check itself catches a Charlson code.
    bad = charlson_index(pl.DataFrame({"encounter_id": ["x"], "icd10_code": ["I50.9"]}))
    assert bad["cci"].item() > 0
    p = incidental_p()
    assert p.shape == (len(keys),) and np.isclose(p.sum(), 1) and p[:10].sum() > 0.2
    assert _entropy(incidental_p(corpus=True)) > _entropy(p)
    assert all(re.fullmatch(r"[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?", c) for c in codes)


def test_person_names():
    names = person_names()
    assert set(names) == {"female", "male", "last"}
    assert all(len(v) >= 300 and v.dtype == object for v in names.values())
    assert "Smith" == names["last"][0]


def test_data_file_matches_packages():
    """The committed data file is what scripts/build_lexicon_data.py builds from the installed packages."""
    pytest.importorskip("simple_icd_10_cm")
    pytest.importorskip("drug_named_entity_recognition")
    built, stored = lexicon_sources.build(), lexicon_sources.load()
    assert built["provenance"] == stored["provenance"], "packages changed: rerun scripts/build_lexicon_data.py"
    assert built == stored
