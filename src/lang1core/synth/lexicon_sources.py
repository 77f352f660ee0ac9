"""The package-derived vocabulary of the synthetic hospital's lexicon, as one compact data file.

Reading the packages at run time is too slow for every process (simple-icd-10-cm parses a
10 MB XML on import), so `build()` extracts what the lexicon needs and `write()` stores it in
data/lexicon_sources.json, which is committed; `python scripts/build_lexicon_data.py`
rebuilds it after a package upgrade and tests/test_synth_lexicon.py checks the file against
the installed packages. Sources (all usable in Apache-2.0 software):

- simple-icd-10-cm (MIT): ICD-10-CM April 2026 code descriptions and inclusion terms
  (the code set itself is a US-government work in the public domain);
- drug-named-entity-recognition (MIT): generic drug names and their synonyms and brand names,
  gathered from DrugBank's open vocabulary (CC0), MeSH and MedlinePlus (NLM, public domain),
  the NHS and Wikipedia; only bare names are taken;
- pycomorb (MIT): Quan's Charlson mapping, so that no incidental code scores a category.
"""

from __future__ import annotations

import bz2
import difflib
import json
import pickle
import re
from importlib import metadata, resources
from pathlib import Path

from lang1core.synth import lexicon_terms as terms
from lang1core.synth.catalog import COVID, CONDITIONS, DEPARTMENTS

DATA_FILE = Path(__file__).parent / "data" / "lexicon_sources.json"
PACKAGES = ("simple-icd-10-cm", "drug-named-entity-recognition", "pycomorb")

# Incidental conditions: ICD-10-CM code prefixes a note can mention in passing. Chapters that
# would say something about the outcomes (neoplasms, pregnancy, injuries, Charlson organs) are
# left out; pycomorb removes whatever of the rest scores a Charlson category.
INCIDENTAL_PREFIXES = (
    "D5", "D6", "D7", "D8", "E0", "E2", "E3", "E5", "E6", "E7", "E8", "F4", "F5", "G2", "G4", "G5", "G6",
    "H", "I83", "I86", "I87", "J30", "J31", "J32", "J33", "J34", "J35", "J38", "J39", "K0", "K1", "K20",
    "K21", "K29", "K30", "K31", "K4", "K58", "K59", "K60", "K61", "K62", "K63", "K64", "L", "M", "N2", "N3",
    "N4", "N5", "N6", "N7", "N8", "N9", "R", "Z87", "Z88", "Z96",
)
# ...less categories that name a symptom, finding or event of the lexicon (or an outcome): an
# incidental mention must be noise, not a second way of writing a signal.
INCIDENTAL_EXCLUDED = (
    "D61", "D62", "D65", "D68", "D69", "D70", "D75.82", "E08", "E09", "E10", "E11", "E13", "E16", "E40",
    "E41", "E43", "E44", "E46", "E64", "E66", "E78", "E83.5", "E84", "E85", "E86", "E87", "E88.A",
    "F44.5", "G40", "G41", "G45", "G46", "G47.3", "G81", "G82", "G83", "G89", "G93", "K21", "K25", "K26",
    "K27", "K28", "K63.1", "K92", "L89", "M05", "M06", "M30", "M31", "M32", "M33", "M34", "M35", "M36",
    "M62.8", "M80", "M84.4", "M84.5", "N17", "N18", "N19", "N25", "N39.0", "R00", "R01", "R03", "R04", "R05",
    "R06", "R07", "R09", "R10", "R11", "R13", "R17", "R18", "R19", "R21", "R25", "R26", "R27", "R29", "R30",
    "R31", "R34", "R39.1", "R40", "R41", "R42", "R44", "R45", "R47", "R50", "R51", "R52", "R53", "R54",
    "R55", "R56", "R57", "R58", "R59", "R60", "R62", "R63", "R64", "R65", "R68", "R69", "R73", "R77", "R78",
    "R79", "R82", "R90", "R93.1", "R94.3", "R97", "R99", "Z87.7", "Z87.0", "Z87.1",
)
MAX_INCIDENTAL = 2500
MAX_INCIDENTAL_DESC = 72  # characters; longer descriptions are coding detail, not note text


def _condition_codes() -> list[str]:
    codes = [c for cond in CONDITIONS for c in cond.codes]
    codes += [dx[0] for d in DEPARTMENTS for dx in d.diagnoses] + [COVID[0]]
    for table in (terms.SYMPTOM_TERMS, terms.FINDING_TERMS, terms.PROCEDURE_TERMS, terms.EVENT_TERMS):
        codes += [c for _, cs in table.values() for c in cs]
    return sorted(set(codes))


def _icd_entry(cm, code: str) -> dict:
    if not cm.is_valid_item(code):
        raise KeyError(f"ICD-10-CM code {code!r} (catalog.py or lexicon_terms.py) is not in simple-icd-10-cm")
    incl = [t for t in cm.get_inclusion_term(code) if len(t) <= 60]
    return {"desc": cm.get_description(code), "incl": incl}


def _charlson_codes(codes: list[str]) -> set[str]:
    """Codes that score a Charlson category on their own (Quan's mapping, as charlson.py scores)."""
    import polars as pl

    from lang1core.charlson import charlson_index

    df = pl.DataFrame({"encounter_id": codes, "icd10_code": codes})
    scored = charlson_index(df)
    return set(scored.filter(pl.col("cci") > 0)["encounter_id"].to_list())


def _incidental(cm, concept_codes: set[str]) -> list[list]:
    """Billable non-Charlson codes of INCIDENTAL_PREFIXES, most general first, outside the
    categories of the lexicon's other concepts (M17.12 would be a second way to say M17.11)."""
    exclude_categories = {c.split(".")[0] for c in concept_codes}
    cand = []
    for code in cm.get_all_codes(with_dots=True):
        if (not code.startswith(INCIDENTAL_PREFIXES) or code.startswith(INCIDENTAL_EXCLUDED)
                or code.split(".")[0] in exclude_categories
                or not cm.is_leaf(code)):
            continue
        too_specific = len(code.replace(".", "")) > 5 or len(cm.get_description(code)) > MAX_INCIDENTAL_DESC
        if too_specific and code not in terms.INCIDENTAL_COMMON:
            continue
        cand.append(code)
    common = list(terms.INCIDENTAL_COMMON)
    missing = [c for c in common if c not in cand]
    if missing:
        raise ValueError(f"lexicon_terms.INCIDENTAL_COMMON: {missing} are not incidental codes "
                         "(invalid, not billable, excluded or too long a description)")
    charlson = _charlson_codes(cand)
    if charlson & set(common):
        raise ValueError(f"lexicon_terms.INCIDENTAL_COMMON: {sorted(charlson & set(common))} score a Charlson category")
    out = [[c, cm.get_description(c), [t for t in cm.get_inclusion_term(c) if len(t) <= 50][:3]]
           for c in cand if c not in charlson]
    # The lexicon puts Zipf weights on this order: the common list, then general conditions
    # (a category's unspecified code, short descriptions) before specific ones.
    rank = {c: i for i, c in enumerate(common)}
    out.sort(key=lambda r: (rank.get(r[0], len(rank)), "unspecified" not in r[1].lower() and not r[0].endswith("9"),
                            len(r[1].split()), len(r[1]), r[0]))
    return out[:MAX_INCIDENTAL]


BRAND_RE = re.compile(r"[a-z]{5,14}( [a-z]{2,10})?")
POOL_NAME_RE = re.compile(r"[a-z][a-z\-]{3,24}( [a-z][a-z\-]{2,16}){0,2}")
POOL_EXCLUDED_WORDS = ("vaccine", "immune globulin", "antitoxin", "venom", "extract", "test", "toxoid", "allergenic")


def _brand_like(variant: str, generic: str) -> bool:
    """A synonym that reads as a brand name: one or two plain words, not a spelling of the generic."""
    if not BRAND_RE.fullmatch(variant) or variant[:4] == generic[:4] or generic in variant:
        return False
    return difflib.SequenceMatcher(None, variant, generic).ratio() < 0.6


def _drugs(catalog_generics: list[str]) -> dict[str, list[str]]:
    """{generic: brand-like names} for the catalogue's generics and the common-drug pool."""
    with resources.files("drug_named_entity_recognition").joinpath("drug_ner_dictionary.pkl.bz2").open("rb") as f:
        d = pickle.load(bz2.open(f))
    v2c, c2d = d["drug_variant_to_canonical"], d["drug_canonical_to_data"]
    synonyms: dict[str, list[str]] = {}
    for variant, canonicals in v2c.items():
        for c in canonicals:
            synonyms.setdefault(c, []).append(variant)
    # The pool: drugs with a MedlinePlus monograph (commonly prescribed in the US).
    pool = [c for c, v in c2d.items() if "medline_plus_id" in v and POOL_NAME_RE.fullmatch(c)
            and not any(w in c for w in POOL_EXCLUDED_WORDS) and " and " not in c]
    out = {}
    for g in sorted(set(pool) | {g for g in catalog_generics if g in c2d}):
        brands = [v for v in synonyms.get(g, []) if _brand_like(v, g)]
        out[g] = list(dict.fromkeys(brands))[:4]
    return out


def build() -> dict:
    """The data file's content, from the installed packages (deterministic)."""
    import simple_icd_10_cm as cm

    from lang1core.synth.lexicon import CATALOG_DRUG_NAMES

    icd = {c: _icd_entry(cm, c) for c in _condition_codes()}
    incidental = _incidental(cm, set(icd))
    return {
        "provenance": {p: metadata.version(p) for p in PACKAGES},
        "icd": icd,
        "incidental": incidental,
        "drugs": _drugs(list(CATALOG_DRUG_NAMES)),
    }


def write(path: Path = DATA_FILE) -> dict:
    data = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=0, ensure_ascii=False, sort_keys=True) + "\n")
    return data


def load(path: Path = DATA_FILE) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run scripts/build_lexicon_data.py")
    data = json.loads(path.read_text())
    for k in ("provenance", "icd", "incidental", "drugs"):
        if k not in data:
            raise KeyError(f"{path}: key {k!r} missing; rebuild it with scripts/build_lexicon_data.py")
    return data
