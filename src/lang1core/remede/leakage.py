"""Leakage check: an input note must not state what its label is (e.g. a mortality H&P that
says "expired" or "time of death"). Each task has its own case-insensitive patterns; the
build reports matches per pattern and label and fails when a task's matched share exceeds
the configured rate.

A bare pattern match over-counts on real notes: "her father died at 86" (family history),
"no family members have died" (negated), "rule out death" (uncertain), "status post deceased
donor kidney transplant" (the donor, not the patient), "she was readmitted to rule out MI"
(the current stay, not a later one). A match counts only when it is about the patient, now
or later, and asserted; every match set aside is counted by why, so the report shows what
the context rules decided. Reports carry example ids only, never note text.
"""

from __future__ import annotations

import re
import polars as pl

# Example ids kept per pattern and per reason in the report.
EXAMPLE_IDS = 5

# Section headings at the start of a line ("Family History:", "FHx -", "SOCIAL HISTORY").
_HEADING = re.compile(r"^[ \t]*([A-Za-z][A-Za-z /&()]{0,40}?)[ \t]*(?::|-\s|$)", re.M)
# Sections about other people or the patient's life, not the stay's outcome.
OTHER_SECTIONS = {
    "family history": "family history section", "family hx": "family history section",
    "fhx": "family history section", "fh": "family history section",
    "social history": "social history section", "social hx": "social history section",
    "shx": "social history section", "sh": "social history section",
}
# What ends such a section: the next heading ("Word:" or an all-capitals line) or a blank
# line, so a section never swallows the rest of the note.
_SECTION_END = re.compile(r"^[ \t]*(?:[A-Z][A-Za-z /&()]{1,40}:|[A-Z][A-Z /&()]{2,40}[ \t]*$|[ \t]*$)", re.M)

# Context cues, searched in the match's sentence (before the match unless said otherwise).
_RELATIVE = (r"\b(?:father|mother|dad|mom|brother|sister|sibling|son|daughter|grand(?:father|mother|parent)s?"
             r"|aunt|uncle|cousin|nephew|niece|husband|wife|spouse|partner|friend|parents?|maternal|paternal"
             r"|family(?: member)?s?|relatives?)\b")
_NEGATION = (r"\b(?:no|not|never|denies|denied|without|negative for|free of|no evidence of|absence of"
             r"|none of)\b")
_UNCERTAIN = (r"\b(?:rule out|r/o|ruled out|possible|possibly|probable|risk of|risk for|concern for|concerned"
              r"|whether|worried|fear(?:s|ful)?|may|might|could|if|unless|goals of care|code status|in case of|should"
              r"|discuss(?:ed|ion)?)\b|\?")
_DONOR = r"\b(?:donor|cadaveric|ddkt|ddrt|dcd|dbd|allograft|transplant(?:ed|ation)?)\b"
# "was readmitted to/for/with ..." recounts why the current stay began.
_CURRENT_STAY = r"^\s*(?:to|for|with|from|on|after|because|due)\b"

# "pronounced edema": the adjective, not the pronouncement of death.
_ADJECTIVE_USE = r"^\s+(?!dead|deceased|at\b|by\b|on\b|time\b|\d)[a-z]"
# Negation and uncertainty reach this many words back (as NegEx's window); a relative
# anywhere earlier in the sentence is the subject ("her father, a farmer, died").
CUE_WORDS = 6

_SENTENCE_END = re.compile(r"[.;!\n]")


def _sections(text: str) -> list[tuple[int, int, str]]:
    """(start, end, reason) of the note's family and social history sections."""
    out = []
    for m in _HEADING.finditer(text):
        why = OTHER_SECTIONS.get(m.group(1).strip().lower())
        if why is None:
            continue
        nxt = _SECTION_END.search(text, m.end() + 1)
        out.append((m.start(), nxt.start() if nxt else len(text), why))
    return out


def _sentence(text: str, start: int, end: int) -> tuple[str, str]:
    """The text of the match's sentence before and after the match."""
    a = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    b = _SENTENCE_END.search(text, end)
    return text[a:start], text[end:b.start() if b else len(text)]


def classify(text: str, start: int, end: int, sections, allow: list[re.Pattern]) -> str | None:
    """Why the match text[start:end] is not a leak (a reason for the report), or None."""
    for a, b, why in sections:
        if a <= start < b:
            return why
    for p in allow:
        for m in p.finditer(text):
            if m.start() <= start and end <= m.end():
                return "allow-listed phrase"
    before, after = _sentence(text, start, end)
    low_before, low_after = before.lower(), after.lower()
    if re.search(_DONOR, low_before + " " + low_after):
        return "transplant donor"
    if re.search(_RELATIVE, low_before):
        return "about someone else"
    near = " ".join(low_before.split()[-CUE_WORDS:])
    if re.search(_NEGATION, near):
        return "negated"
    if re.search(_UNCERTAIN, near) or re.search(r"^\s*\?", low_after):
        return "uncertain or hypothetical"
    word = text[start:end].lower()
    if word == "pronounced" and re.search(_ADJECTIVE_USE, low_after):
        return "other sense of the word"
    if "readmit" in word and re.search(_CURRENT_STAY, low_after):
        return "describes the current stay"
    return None


class LeakageError(RuntimeError):
    """A task's notes give their labels away more often than allowed."""


def leakage_report(df: pl.DataFrame, patterns: list[str], max_rate: float,
                   allow: list[str] | None = None) -> dict:
    """Leaking matches of `patterns` in `df["text"]` (see the module docstring).

    Per pattern: `matched` (examples with a leaking match), `matched_positive` (of those,
    label > 0), `raw` (examples with any match), `set_aside` (reason -> examples whose every
    match was set aside for it) and `example_ids`. `allow` holds regular expressions of
    phrases a match inside of is never a leak (remede.leakage.allow). The share of examples
    with a leaking match must be within `max_rate`."""
    n = df.height
    base = {"n": n, "max_rate": max_rate, "allow": list(allow or [])}
    if n == 0 or not patterns:
        return {**base, "matched": 0, "raw_matched": 0, "rate": 0.0, "ok": True, "patterns": {}, "examples": []}
    compiled = [re.compile(p, re.I) for p in patterns]
    allowed = [re.compile(p, re.I) for p in allow or []]
    # Only notes with some match are read in Python; the rest are screened by polars.
    any_raw = pl.any_horizontal([pl.col("text").str.contains(f"(?i){p}") for p in patterns]).fill_null(False)
    cand = df.filter(any_raw).select("example_id", "label", "text")
    per = {p: {"matched": 0, "matched_positive": 0, "raw": 0, "set_aside": {}, "example_ids": [],
               "set_aside_example_ids": {}} for p in patterns}
    leaking: list[str] = []
    for eid, label, text in cand.iter_rows():
        sections = _sections(text)
        leaks = False
        for p, rx in zip(patterns, compiled):
            reasons = [classify(text, m.start(), m.end(), sections, allowed) for m in rx.finditer(text)]
            if not reasons:
                continue
            s = per[p]
            s["raw"] += 1
            if any(r is None for r in reasons):
                leaks = True
                s["matched"] += 1
                s["matched_positive"] += int((label or 0) > 0)
                if len(s["example_ids"]) < EXAMPLE_IDS:
                    s["example_ids"].append(eid)
            else:
                why = reasons[0]
                s["set_aside"][why] = s["set_aside"].get(why, 0) + 1
                ids = s["set_aside_example_ids"].setdefault(why, [])
                if len(ids) < EXAMPLE_IDS:
                    ids.append(eid)
        if leaks:
            leaking.append(eid)
    rate = len(leaking) / n
    return {**base, "matched": len(leaking), "raw_matched": cand.height, "rate": rate, "ok": rate <= max_rate,
            "patterns": per, "examples": leaking[:EXAMPLE_IDS]}
