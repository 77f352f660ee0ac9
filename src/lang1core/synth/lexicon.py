"""Surface forms of the synthetic hospital's clinical concepts, with how often each is written.

A concept (a condition, principal diagnosis, symptom, finding, drug, procedure, hospital-course
event or incidental condition) has many forms: the catalogue's words, ICD-10-CM descriptions
and inclusion terms, drug brand names (data/lexicon_sources.json, built from packages by
lexicon_sources.py), clinical shorthand (lexicon_terms.py) and seeded misspellings. Task notes
(H&P, discharge summary) draw forms with steep Zipf weights; corpus notes draw from flatter
weights over a partly reshuffled order, so a form a model rarely sees with a label is common in
its pretraining text. Forms enter use in a year (HFpEF 2010, a brand at launch, ICD-10-CM
wording from 2015) and each site multiplies the weights by its own seeded factors.
"""

from __future__ import annotations

import functools
import random
import re
import zlib
from dataclasses import dataclass, field

import numpy as np

from lang1core.synth import lexicon_sources
from lang1core.synth import lexicon_terms as terms
from lang1core.synth.catalog import COVID, COVID_DRUGS, CONDITIONS, DEPARTMENTS

KINDS = ("condition", "diagnosis", "symptom", "finding", "drug", "procedure", "event", "incidental")
# Which concept keeps a form that two concepts share (the other loses it unless it is its
# canonical form): the more specific, outcome-bearing kinds first.
KIND_PRIORITY = ("condition", "diagnosis", "event", "procedure", "symptom", "finding", "drug", "incidental")

SEED = 20240601
N_SITE_STYLES = 4  # sites 0..3 have their own factors; site s uses s % 4
SITE_SIGMA = 1.4  # lognormal spread of a site's per-form factors
TASK_ZIPF = 0.8  # weight of the form of rank r: (r + 1) ** -exponent
CORPUS_ZIPF = 0.45
CORPUS_SHUFFLE = 0.6  # corpus rank = task rank + U(0, this * n_forms): rare forms move up
TYPO_TASK, TYPO_CORPUS = 0.02, 0.05  # a misspelling's weight relative to the form it misspells
MAX_TYPOS = 2  # misspellings per concept, of its top forms
TYPO_MIN_LEN = 7  # only words this long get misspelled

# Words of a catalogue drug string that end its generic name ("albuterol MDI 2 puffs").
_DRUG_STOP = {"MDI", "per", "sliding"}


def drug_name(drug: str) -> str:
    """Generic name of a catalogue drug string: "metoprolol succinate 50 mg daily" -> "metoprolol succinate"."""
    words = []
    for w in drug.split():
        if any(ch.isdigit() for ch in w) or w in _DRUG_STOP:
            break
        words.append(w)
    if not words:
        raise ValueError(f"drug string {drug!r} has no generic name before its dose")
    return " ".join(words).lower()


def drug_key(drug: str) -> str:
    """Concept key of a catalogue drug string ("sacubitril-valsartan 49-51 mg BID" -> "drug:sacubitril-valsartan")."""
    return "drug:" + drug_name(drug).replace(" ", "_")


_CATALOG_DRUG_STRINGS = tuple(d for c in CONDITIONS for d, _, _ in c.drugs) + tuple(d for d, _, _ in COVID_DRUGS)
CATALOG_DRUG_NAMES = tuple(dict.fromkeys(drug_name(d) for d in _CATALOG_DRUG_STRINGS))
CATALOG_DRUGS = tuple("drug:" + n.replace(" ", "_") for n in CATALOG_DRUG_NAMES)
DIAGNOSIS_CODES = tuple(dict.fromkeys([dx[0] for d in DEPARTMENTS for dx in d.diagnoses] + [COVID[0]]))


@dataclass(frozen=True, eq=False)
class Concept:
    key: str  # "<kind>:<id>", e.g. "condition:chf", "diagnosis:J18.9", "drug:furosemide"
    kind: str
    forms: tuple[str, ...]  # every surface form; forms[0] is the canonical one
    task_p: np.ndarray  # probability of each form in task notes
    corpus_p: np.ndarray  # probability in corpus notes (flatter)
    since: np.ndarray  # year each form comes into use; 0 = always
    typo: np.ndarray = field(repr=False)  # True where the form is a generated misspelling


def concept_token(key: str) -> str:
    """The token normalize() writes for a concept: "condition:chf" -> "CONCEPT_condition_chf"."""
    return "CONCEPT_" + re.sub(r"\W", "_", key.replace(":", "_"))


_EPONYM_NEXT = {"syndrome", "disease", "palsy", "cyst", "phenomenon", "contracture", "anomaly", "nodes"}


def clinical_form(desc: str) -> str:
    """Shorter form of an ICD-10-CM description, as a note would write it.

    "Gout, unspecified" -> "gout"; "Essential (primary) hypertension" -> "essential hypertension".
    """
    s = re.sub(r"\s*\([^)]*\)", "", desc)
    s = re.sub(r",? (unspecified|not elsewhere classified|NOS)\b.*$", "", s)
    s = re.sub(r" without .*$", "", s)
    s = re.sub(r"^Unspecified ", "", s)
    s = re.sub(r" NOS$", "", s).strip(" ,")
    words = s.split(" ")
    # Acronyms and eponyms keep their capital ("HIV disease", "Bell's palsy", "Down syndrome").
    eponym = re.fullmatch(r"\w+'s|\w+-[A-Z]\w*", words[0]) or (len(words) > 1 and words[1] in _EPONYM_NEXT)
    if len(s) > 1 and not s[1].isupper() and not eponym:
        s = s[0].lower() + s[1:]
    return s


def _split(entry) -> tuple[str, int]:
    return (entry, 0) if isinstance(entry, str) else (entry[0], int(entry[1]))


@functools.cache
def _common_words() -> frozenset[str]:
    """Everyday English words (Faker's en_US lorem list): a package-derived synonym that is one of
    them ("Worry", "Age") would be found in any text, so it is not used as a form."""
    from faker.providers.lorem.en_US import Provider

    return frozenset(w.lower() for w in Provider.word_list)


def _usable(form: str) -> bool:
    """Whether a form taken from a package (not written by hand) can name a concept in text."""
    return len(form) > 3 and form.lower() not in _common_words()


def _icd_forms(icd: dict, codes) -> list[tuple[str, int]]:
    """Forms of ICD-10-CM codes: the exact description (from ICD_SINCE), its clinical form, inclusion terms."""
    out = []
    for code in codes:
        if code not in icd:
            raise KeyError(f"ICD-10-CM code {code!r} missing from {lexicon_sources.DATA_FILE}: "
                           "rebuild it with scripts/build_lexicon_data.py")
        e = icd[code]
        out += [(clinical_form(e["desc"]), 0), (e["desc"], terms.ICD_SINCE)]
        out += [(f, 0) for f in map(clinical_form, e["incl"]) if _usable(f)]
    return out


def _misspell(form: str, rnd: random.Random) -> str | None:
    """One seeded single edit (drop, double or swap a letter) of one long word of `form`."""
    words = form.split(" ")
    cand = [i for i, w in enumerate(words) if len(w) >= TYPO_MIN_LEN and w.isalpha() and not w.isupper()]
    if not cand:
        return None
    i = rnd.choice(cand)
    w = words[i]
    j = rnd.randrange(1, len(w) - 2)  # keep the first letter, as people do
    op = rnd.randrange(3)
    if op == 0:
        w = w[:j] + w[j + 1:]
    elif op == 1:
        w = w[:j] + w[j] + w[j:]
    else:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    words[i] = w
    out = " ".join(words)
    return None if out.lower() == form.lower() else out


def _raw_concepts(src: dict) -> list[tuple[str, str, list[tuple[str, int]]]]:
    """(key, kind, [(form, since), ...]) of every concept, canonical form first, in task-rank order."""
    icd, out = src["icd"], []
    for c in CONDITIONS:
        forms = [(w, 0) for w in c.words] + [_split(t) for t in terms.CONDITION_TERMS.get(c.key, ())]
        out.append((f"condition:{c.key}", "condition", forms + _icd_forms(icd, c.codes)))
    dx_words = {dx[0]: dx[1] for d in DEPARTMENTS for dx in d.diagnoses} | {COVID[0]: COVID[1]}
    for code in DIAGNOSIS_CODES:
        since = 2020 if code == COVID[0] else 0
        forms = [(dx_words[code], since)] + [_split(t) for t in terms.DIAGNOSIS_TERMS.get(code, ())]
        icd_forms = [(f, max(s, since)) for f, s in _icd_forms(icd, [code])]
        out.append((f"diagnosis:{code}", "diagnosis", forms + icd_forms))
    for kind, table in (("symptom", terms.SYMPTOM_TERMS), ("finding", terms.FINDING_TERMS),
                        ("procedure", terms.PROCEDURE_TERMS), ("event", terms.EVENT_TERMS)):
        for cid, (forms, codes) in table.items():
            out.append((f"{kind}:{cid}", kind, [_split(t) for t in forms] + _icd_forms(icd, codes)))
    drugs = src["drugs"]
    for name in CATALOG_DRUG_NAMES:
        cid = name.replace(" ", "_")
        forms = [(name, 0)] + [_split(t) for t in terms.DRUG_TERMS.get(cid, ())]
        forms += [(b.title(), 0) for b in drugs.get(name, ()) if _usable(b)]
        out.append((f"drug:{cid}", "drug", forms))
    for name in sorted(set(drugs) - set(CATALOG_DRUG_NAMES)):
        forms = [(name, 0)] + [_split(t) for t in terms.POOL_DRUG_TERMS.get(name, ())]
        forms += [(b.title(), 0) for b in drugs[name] if _usable(b)]
        out.append((f"drug:{name.replace(' ', '_')}", "drug", forms))
    for code, desc, incl in src["incidental"]:
        short = clinical_form(desc)
        forms = [(short, 0)] + [(t, 0) for t in terms.INCIDENTAL_COMMON.get(code, ())]
        forms += [(desc, terms.ICD_SINCE)] if short.lower() != desc.lower() else []
        forms += [(f, 0) for f in map(clinical_form, incl) if _usable(f)]
        out.append((f"incidental:{code}", "incidental", forms))
    return out


def _zipf(rank: np.ndarray, exponent: float) -> np.ndarray:
    return (rank + 1.0) ** -exponent


def _unit(text: str) -> float:
    """A fixed pseudo-random number in [0, 1) for `text` (stable when other concepts change)."""
    return zlib.crc32(f"{SEED}|{text}".encode()) / 2.0**32


def _weights(rows: list[tuple[str, list[tuple[str, int]], list[tuple[str, int, int]]]]):
    """Task and corpus probabilities of every concept's forms, computed for all concepts at once.

    rows: (key, forms in task-rank order, typos as (form, since, index of the form misspelt)).
    Returns per concept (task_p, corpus_p, since, typo) with forms first, then typos.
    """
    n_forms = np.array([len(f) for _, f, _ in rows])
    n_typos = np.array([len(t) for _, _, t in rows])
    cid = np.repeat(np.arange(len(rows)), n_forms)
    start = np.r_[0, np.cumsum(n_forms)[:-1]]
    rank = np.arange(len(cid)) - start[cid]
    # Corpus ranks: task ranks shuffled by a fixed per-form amount, so some rare forms move up.
    u = np.array([_unit(key + "|" + f) for key, forms, _ in rows for f, _ in forms])
    order = np.lexsort((rank + u * CORPUS_SHUFFLE * n_forms[cid], cid))
    corpus_rank = np.empty_like(rank)
    corpus_rank[order] = np.arange(len(cid)) - start[cid[order]]
    corpus_rank[rank == 0] = np.minimum(corpus_rank[rank == 0], 1)  # the canonical form stays common
    task_w, corpus_w = _zipf(rank, TASK_ZIPF), _zipf(corpus_rank, CORPUS_ZIPF)
    parent = np.array([start[i] + j for i, (_, _, typos) in enumerate(rows) for _, _, j in typos], dtype=int)
    tcid = np.repeat(np.arange(len(rows)), n_typos)
    task_t, corpus_t = TYPO_TASK * task_w[parent], TYPO_CORPUS * corpus_w[parent]
    task_sum = np.bincount(cid, task_w, len(rows)) + np.bincount(tcid, task_t, len(rows))
    corpus_sum = np.bincount(cid, corpus_w, len(rows)) + np.bincount(tcid, corpus_t, len(rows))
    task_w, corpus_w = task_w / task_sum[cid], corpus_w / corpus_sum[cid]
    task_t, corpus_t = task_t / task_sum[tcid], corpus_t / corpus_sum[tcid]
    since = np.array([s for _, forms, _ in rows for _, s in forms], dtype=np.int64)
    since_t = np.array([s for _, _, typos in rows for _, s, _ in typos], dtype=np.int64)
    tstart = np.r_[0, np.cumsum(n_typos)[:-1]]
    out = []
    for i in range(len(rows)):
        f, t = slice(start[i], start[i] + n_forms[i]), slice(tstart[i], tstart[i] + n_typos[i])
        out.append((np.concatenate([task_w[f], task_t[t]]), np.concatenate([corpus_w[f], corpus_t[t]]),
                    np.concatenate([since[f], since_t[t]]), np.arange(n_forms[i] + n_typos[i]) >= n_forms[i]))
    return out


def _trie_regex(words: list[str]) -> str:
    """One regex alternation of `words` shaped as a character trie, so matching a position costs
    one branch per character instead of one try per word; greedy, so the longest form wins."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        alt = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return (alt if len(branches) == 1 and len(alt) == 1 else f"(?:{alt})") + "?"
        return alt

    return emit(trie)


class Lexicon:
    """Every concept of the synthetic hospital and its surface forms (build with lexicon())."""

    def __init__(self, src: dict):
        self.provenance = dict(src["provenance"])
        raw = _raw_concepts(src)
        order = sorted(range(len(raw)), key=lambda i: (KIND_PRIORITY.index(raw[i][1]), i))
        owner: dict[str, str] = {}
        kept: dict[int, list[tuple[str, int]]] = {}
        for i in order:  # shared forms stay with the higher-priority concept
            key, _, forms = raw[i]
            seen, mine = set(), []
            for j, (f, s) in enumerate(forms):
                low = f.lower()
                if not f or low in seen or (j > 0 and low in owner and owner[low] != key):
                    continue
                seen.add(low)
                owner.setdefault(low, key)
                mine.append((f, s))
            kept[i] = mine
        rows = []
        for i, (key, _, _) in enumerate(raw):
            forms = kept[i]
            rnd = random.Random(SEED ^ zlib.crc32(key.encode()))
            typos = []
            for j, (f, s) in enumerate(forms[:4]):
                t = _misspell(f, rnd) if len(typos) < MAX_TYPOS else None
                if t and t.lower() not in owner:
                    owner[t.lower()] = key
                    typos.append((t, s, j))
            rows.append((key, forms, typos))
        self.concepts: dict[str, Concept] = {}
        self._owner = owner
        for (key, kind, _), (_, forms, typos), (task_p, corpus_p, since, typo) in zip(raw, rows, _weights(rows)):
            if key in self.concepts:
                raise ValueError(f"lexicon: concept {key!r} defined twice")
            all_forms = tuple(f for f, _ in forms) + tuple(f for f, _, _ in typos)
            self.concepts[key] = Concept(key, kind, all_forms, task_p, corpus_p, since, typo)
        self._by_kind = {k: [c.key for c in self.concepts.values() if c.kind == k] for k in KINDS}
        self._arrays: dict[str, np.ndarray] = {}
        self._p_cache: dict[tuple, np.ndarray] = {}
        self._site_cache: dict[tuple[str, int], np.ndarray] = {}
        self._regex = None

    def __getitem__(self, key: str) -> Concept:
        try:
            return self.concepts[key]
        except KeyError:
            raise KeyError(f"lexicon has no concept {key!r} (kinds: {', '.join(KINDS)})") from None

    def keys(self, kind: str) -> list[str]:
        if kind not in self._by_kind:
            raise KeyError(f"unknown concept kind {kind!r}; kinds are {KINDS}")
        return list(self._by_kind[kind])

    def site_factors(self, key: str, site: int) -> np.ndarray:
        """Fixed lognormal factor per form of site `site` (mod 4): the site's favourite forms."""
        s = int(site) % N_SITE_STYLES
        f = self._site_cache.get((key, s))
        if f is None:
            n = len(self[key].forms)
            rnd = np.random.default_rng((SEED, zlib.crc32(key.encode()), 1 + s))
            f = self._site_cache[(key, s)] = np.exp(SITE_SIGMA * rnd.standard_normal(n))
        return f

    def probabilities(self, key: str, *, corpus: bool = False, site: int = 0, year: int = 2015) -> np.ndarray:
        """The distribution draw() samples from for one concept, site and year."""
        ck = (key, corpus, int(site) % N_SITE_STYLES, int(year))
        p = self._p_cache.get(ck)
        if p is None:
            c = self[key]
            w = (c.corpus_p if corpus else c.task_p) * self.site_factors(key, site)
            w = np.where(c.since <= year, w, 0.0)
            if w.sum() <= 0:
                raise ValueError(f"lexicon: concept {key!r} has no form in use in {year} "
                                 f"(earliest {int(c.since.min())})")
            p = self._p_cache[ck] = w / w.sum()
        return p

    def draw(self, key: str, rng: np.random.Generator, n: int, *, corpus: bool = False,
             site: int | np.ndarray = 0, year: int | np.ndarray = 2015) -> np.ndarray:
        """n surface forms of one concept (object array of str).

        Forms not yet in use in `year` are excluded; each site (0..3, more wrap) weighs forms by
        the base weights times its fixed seeded factors. `site` and `year` may also be arrays of
        length n (one per draw)."""
        forms = self._arrays.get(key)
        if forms is None:
            forms = self._arrays[key] = np.array(self[key].forms, dtype=object)
        if np.ndim(site) == 0 and np.ndim(year) == 0:
            return forms[rng.choice(len(forms), size=n, p=self.probabilities(key, corpus=corpus, site=site, year=year))]
        sites = np.broadcast_to(np.asarray(site, dtype=np.int64) % N_SITE_STYLES, (n,))
        years = np.broadcast_to(np.asarray(year, dtype=np.int64), (n,))
        if years.min() < 0:
            raise ValueError(f"lexicon.draw({key!r}): negative year {int(years.min())}")
        groups, inv = np.unique(sites * 100_000 + years, return_inverse=True)
        cum = np.cumsum([self.probabilities(key, corpus=corpus, site=int(g // 100_000), year=int(g % 100_000))
                         for g in groups], axis=1)
        cum /= cum[:, -1:]  # exactly 1 from the last form in use on, so later forms are never hit
        # One searchsorted for all rows: group g's cumulative weights are shifted into [g, g + 1].
        flat = (cum + np.arange(len(groups))[:, None]).ravel()
        inv = inv.reshape(-1)
        idx = np.searchsorted(flat, rng.random(n) + inv, side="right") - inv * len(forms)
        return forms[np.minimum(idx, len(forms) - 1)]

    def concept_of_form(self) -> dict[str, str]:
        """Lower-cased surface form -> concept key, for every form of every concept.

        A form two concepts share maps to the one of the higher-priority kind (KIND_PRIORITY)."""
        return dict(self._owner)

    def normalize(self, text: str) -> str:
        """Replace each known surface form (longest first, case-insensitive, whole words) by the
        token of its concept (concept_token), e.g. "CHF" -> "CONCEPT_condition_chf"."""
        if self._regex is None:
            forms = sorted(self._owner, key=lambda f: (-len(f), f))
            self._regex = re.compile(r"(?<!\w)" + _trie_regex(forms) + r"(?!\w)", re.IGNORECASE)
            self._tokens = {f: concept_token(k) for f, k in self._owner.items()}
        tokens = self._tokens
        return self._regex.sub(lambda m: tokens.get(m.group(0).lower(), m.group(0)), text)


@functools.cache
def lexicon() -> Lexicon:
    """The lexicon, built once per process from data/lexicon_sources.json (deterministic)."""
    return Lexicon(lexicon_sources.load())


def incidental_conditions() -> list[str]:
    """Keys of the incidental (non-Charlson) conditions, most often mentioned first."""
    return lexicon().keys("incidental")


def incidental_p(*, corpus: bool = False) -> np.ndarray:
    """Zipf weights over incidental_conditions(), so a few incidental conditions are common."""
    n = len(incidental_conditions())
    w = _zipf(np.arange(n, dtype=float), 1.0 if not corpus else 0.8)
    return w / w.sum()


@functools.cache
def person_names() -> dict[str, np.ndarray]:
    """First names by sex and surnames, most common first (Faker's en_US lists, from US
    Census and Social Security frequencies)."""
    from faker.providers.person.en_US import Provider

    def ordered(names) -> np.ndarray:
        items = list(names.items()) if hasattr(names, "items") else [(n, 1.0) for n in names]
        items.sort(key=lambda kv: -kv[1])
        return np.array([k for k, _ in items], dtype=object)

    return {"female": ordered(Provider.first_names_female), "male": ordered(Provider.first_names_male),
            "last": ordered(Provider.last_names)}
