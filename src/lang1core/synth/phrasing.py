"""Building blocks every note shares: surface forms of concepts, the context cues that change
what a mention means, numbers in a site's formats, and fake identifiers.

Rendering is one Python pass per note driven by a seeded `random.Random` (scalar draws in
Python are far cheaper than numpy calls of size one); everything a note says about outcomes
comes from the stay's facts, the randomness only chooses how it is said.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from bisect import bisect
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

import numpy as np

from lang1core.synth.lexicon import N_SITE_STYLES, lexicon, person_names


@cache
def _table(key: str, corpus: bool, site: int, year: int) -> tuple[tuple[str, ...], list[float]]:
    lex = lexicon()
    p = lex.probabilities(key, corpus=corpus, site=site, year=year)
    return lex[key].forms, list(accumulate(p.tolist()))


@cache
def _names() -> dict[str, list[str]]:
    return {k: [str(x) for x in v] for k, v in person_names().items()}


@dataclass
class Voice:
    """Who is writing: the site, the year, whether the note is a task note (H&P, discharge
    summary) or a corpus note, and the note's random stream."""

    rnd: random.Random
    site: int
    year: int
    corpus: bool = False

    def form(self, key: str) -> str:
        """One surface form of a lexicon concept, as this site writes it in this year."""
        forms, cum = _table(key, self.corpus, self.site % N_SITE_STYLES, self.year)
        return forms[min(bisect(cum, self.rnd.random() * cum[-1]), len(forms) - 1)]

    def pool_form(self, key: str, rnd: random.Random) -> str:
        """A form of one of the thousands of background concepts (incidental problems, unrelated
        drugs): site-independent and by five-year period, which keeps the form tables few."""
        forms, cum = _table(key, self.corpus, 0, self.year - self.year % 5)
        return forms[min(bisect(cum, rnd.random() * cum[-1]), len(forms) - 1)]

    def pick(self, options):
        return options[int(self.rnd.random() * len(options))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.rnd.random() * (b - a + 1))

    def chance(self, p: float) -> bool:
        return self.rnd.random() < p

    def listing(self, items: list[str], conj: str = "and") -> str:
        """"a", "a and b", "a, b and c" (or "a, b, and c" for some writers)."""
        if len(items) <= 1:
            return "".join(items)
        oxford = "," if self.chance(0.3) else ""
        return ", ".join(items[:-1]) + f"{oxford} {conj} " + items[-1]

    def surname(self) -> str:
        return self.pick(_names()["last"])


# --- typing errors ---------------------------------------------------------------------------------
TYPO_RATE = 0.002  # per word of six letters or more: real notes carry a long tail of misspellings
_LONG_WORD = re.compile(r"\b[a-z]{6,}\b")


def with_typos(v: Voice, text: str) -> str:
    """The note as typed: now and then a long lower-case word loses, doubles or swaps a letter."""
    rnd = v.rnd

    def typo(m: re.Match) -> str:
        w = m.group(0)
        if rnd.random() >= TYPO_RATE:
            return w
        i = 1 + int(rnd.random() * (len(w) - 2))
        kind = rnd.random()
        if kind < 0.4:
            return w[:i] + w[i + 1:]
        if kind < 0.7:
            return w[:i] + w[i] + w[i:]
        return w[:i - 1] + w[i] + w[i - 1] + w[i + 1:]

    return _LONG_WORD.sub(typo, text)


# --- context cues (what a mention asserts) ------------------------------------------------------
NEGATION_LEAD = ("Denies", "Patient denies", "No", "Negative for", "Denies any", "Pt denies", "Without")
HISTORY_NEG = ("No history of", "No known history of", "Denies history of", "No prior", "No hx of",
               "Never diagnosed with")
POSSIBLE = ("concern for {x}", "cannot rule out {x}", "rule out {x}", "possible {x}", "question of {x}",
            "r/o {x}", "{x} is on the differential", "{x} not yet excluded", "evaluate for {x}",
            "suspected {x}, workup pending")
FAMILY_REL = ("Mother", "Father", "Sister", "Brother", "Maternal grandmother", "Paternal grandfather",
              "Maternal uncle", "Paternal aunt", "Mom", "Dad")
FAMILY_FMT = ("{r} with {x}", "{r}: {x}", "{r} had {x}", "{r} - {x}", "{r} with history of {x}")


def negated_list(v: Voice, terms: list[str]) -> str:
    """One negation whose scope covers a whole list: "Denies fever, chills or cough."."""
    return f"{v.pick(NEGATION_LEAD)} {v.listing(terms, 'or')}."


def possible(v: Voice, term: str) -> str:
    return v.pick(POSSIBLE).format(x=term)


def family(v: Voice, term: str) -> str:
    return v.pick(FAMILY_FMT).format(r=v.pick(FAMILY_REL), x=term)


# --- people and numbers -------------------------------------------------------------------------
def patient_random(name_u: np.ndarray, salt: int) -> random.Random:
    """A stream fixed per patient: what a patient has regardless of stay (incidental problems,
    unrelated home drugs) is the same in every note about them."""
    return random.Random(int(name_u[2] * 2**52) * 8 + salt)


def patient_name(name_u: np.ndarray, female: bool) -> tuple[str, str]:
    """(first, last) fake name fixed by the patient's uniforms (the same at every stay)."""
    n = _names()
    firsts = n["female"] if female else n["male"]
    # Square the uniform so common names are common.
    return firsts[int(name_u[0] ** 2 * len(firsts))], n["last"][int(name_u[1] ** 2 * len(n["last"]))]


def mrn(name_u: np.ndarray) -> str:
    return str(10_000_000 + int(name_u[2] * 89_999_999))


def phone(v: Voice) -> str:
    return f"({v.rnd.randint(201, 989)}) {v.rnd.randint(200, 999)}-{v.rnd.randint(0, 9999):04d}"


def age_phrase(v: Voice, age: float, female: bool) -> str:
    if age < 2:
        months = int(age * 12)
        return f"{months}-month-old {'girl' if female else 'boy'}"
    years = int(age)
    noun = ("girl" if female else "boy") if age < 18 else v.pick(("woman", "female", "lady") if female else
                                                                  ("man", "male", "gentleman"))
    return v.pick((f"{years}-year-old {noun}", f"{years} y/o {noun}", f"{years}yo {noun[0].upper()}",
                   f"{years} year old {noun}", f"{years}-year-old {noun}"))


def cap(x: str) -> str:
    return x[:1].upper() + x[1:]


def sentence(x: str) -> str:
    return cap(x) + "."


def days_after(t: np.datetime64, days: int) -> np.datetime64:
    return t + np.timedelta64(days, "D")


DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d", "%d-%b-%Y", "%b %d, %Y")


def date(v: Voice, t: np.datetime64, fmt_index: int | None = None) -> str:
    d = dt.datetime.fromisoformat(str(np.datetime64(t, "s")))
    return d.strftime(DATE_FORMATS[v.site % len(DATE_FORMATS)] if fmt_index is None else DATE_FORMATS[fmt_index])
