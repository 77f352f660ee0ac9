"""One chunk of the health system: patients, their encounters and every stay's outcomes.

`simulate_chunk` returns a `Chunk` whose `enc` frame holds one row per kept encounter with
the contract's columns plus the latent facts (prefixed by nothing; dropped on write) that
notes, codes, claims and the oracle read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from lang1core.synth import encounters as E
from lang1core.synth.catalog import DEPT_INDEX, DEPT_KEYS, DISPOSITIONS, PAYERS, READMISSION_EXCLUDED
from lang1core.synth.config import SynthConfig
from lang1core.synth.population import YEAR_DAYS, Population, make_population

# Per-encounter facts that are matrices (rows aligned with `Chunk.enc`), not columns.
MATRICES = ("present", "phys", "need", "events", "negated_events", "dc_labs", "possible", "family", "negated")


@dataclass
class Chunk:
    pop: Population
    enc: pl.DataFrame  # one row per encounter, sorted by patient and admission
    m: dict[str, np.ndarray]  # MATRICES by name: present (n_enc, N_COND) bool, phys (n_enc, len(physiology.NAMES)), ...

    @property
    def present(self) -> np.ndarray:
        return self.m["present"]


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _encounter_rows(rng, pop: Population, pat, admit_day, age, present, cls, dept, adm_type, site,
                    parent) -> dict[str, np.ndarray]:
    """Complete rows (all classes) with inpatient facts and outcomes filled where they apply."""
    n = len(pat)
    payer = E._payer(pop, pat, age)
    rows = dict(pat=pat, admit_day=admit_day, age=age, cls=cls, dept=dept, adm_type=adm_type, payer=payer,
                site=site, parent=parent, dx=E.principal_dx(rng, dept, present, admit_day), present=present)
    inp = np.nonzero(cls == 0)[0]
    s = E.simulate_stays(rng, pop, pat[inp], admit_day[inp], age[inp], present[inp], dept[inp], adm_type[inp],
                         payer[inp], site[inp])
    for k, v in s.items():
        if k not in rows:
            rows[k] = np.zeros((n,) + v.shape[1:], v.dtype)
        rows[k][inp] = v
    # Claims of other classes are denied less often and never enter the denial task.
    other = cls != 0
    rows["denied"][other] = rng.random(other.sum()) < 0.05
    rows["admit"], rows["discharge"] = E._times(rng, admit_day, rows["los_days"], cls)
    return rows


def _adm_type(rng, cls, dept) -> np.ndarray:
    n = len(cls)
    elective_p = np.select(
        [dept == DEPT_INDEX[k] for k in ("surgery", "orthopedics", "obstetrics", "rehabilitation", "oncology")],
        [0.35, 0.6, 0.25, 0.9, 0.2], 0.05)
    u = rng.random(n)
    t = np.where(u < elective_p, 2, np.where(u < elective_p + 0.15, 1, 0))
    return np.where(cls == 0, t, np.where(cls == 3, 2, np.where(cls == 1, 1, 0)))


def _site(rng, pop, pat, n_sites) -> np.ndarray:
    away = rng.random(len(pat)) < 0.15
    return np.where(away, rng.integers(0, n_sites, len(pat)), pop.home_site[pat])


def _conflicts(rows: dict[str, np.ndarray]) -> np.ndarray:
    """Background encounters that overlap a stay or are inpatient within 30 days of a discharge."""
    n = len(rows["pat"])
    floor = np.datetime64("1900-01-01T00:00:00", "us")
    ceil = np.datetime64("2200-01-01T00:00:00", "us")
    inp = rows["cls"] == 0
    df = pl.DataFrame({
        "uid": np.arange(n), "pat": rows["pat"], "admit": rows["admit"], "discharge": rows["discharge"],
        "inp_dis": np.where(inp, rows["discharge"], floor), "inp_adm": np.where(inp, rows["admit"], ceil),
        "inp": inp, "readmission": rows["parent"] >= 0,
    }).sort(["pat", "admit", "uid"])
    window = pl.duration(days=E.READMIT_WINDOW_DAYS)
    df = df.with_columns(
        prev_dis=pl.col("inp_dis").cum_max().shift(1).over("pat"),
        next_adm=pl.col("inp_adm").cum_min(reverse=True).shift(-1).over("pat"),
    ).with_columns(
        conflict=~pl.col("readmission") & (
            (pl.col("admit") < pl.col("prev_dis")).fill_null(False)
            | (pl.col("inp") & (pl.col("admit") <= pl.col("prev_dis") + window)).fill_null(False)
            | (pl.col("discharge") > pl.col("next_adm")).fill_null(False)
        )
    )
    out = np.zeros(n, bool)
    out[df["uid"].to_numpy()] = df["conflict"].to_numpy()
    return out


def _take(rows: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    """Rows where `keep`, with parent indices renumbered (-1 where the parent is gone)."""
    new_index = np.cumsum(keep) - 1
    out = {k: v[keep] for k, v in rows.items()}
    par = out["parent"]
    ok = par >= 0
    par = par.copy()
    par[ok] = np.where(keep[par[ok]], new_index[par[ok]], -1)
    out["parent"] = par
    return out


def _remove_with_descendants(rows, remove: np.ndarray) -> dict[str, np.ndarray]:
    parent = rows["parent"]
    has = parent >= 0
    for _ in range(E.MAX_READMIT_ROUNDS + 1):
        inherited = np.zeros_like(remove)
        inherited[has] = remove[parent[has]]
        if not (inherited & ~remove).any():
            break
        remove = remove | inherited
    return _take(rows, ~remove)


def simulate_chunk(cfg: SynthConfig, chunk_index: int, first_patient: int, n: int) -> Chunk:
    rng = np.random.default_rng([cfg.seed, chunk_index])
    n_sites = len(cfg.sites)
    pop = make_population(rng, first_patient, n, cfg.start_year, cfg.end_year, n_sites)
    bg = E.background_encounters(rng, pop, n_sites, cfg.start_year, cfg.end_year)
    pat, cls, age, present = bg["pat"], bg["cls"], bg["age"], bg["present"]
    dept = E._other_dept(rng, cls, age, present)
    inp = cls == 0
    dept[inp] = E._inpatient_dept(rng, pop, pat[inp], age[inp], present[inp])
    rows = _encounter_rows(rng, pop, pat, bg["admit_day"], age, present, cls, dept,
                           _adm_type(rng, cls, dept), _site(rng, pop, pat, n_sites), np.full(len(pat), -1))
    rows = _remove_with_descendants(rows, _conflicts(rows))
    # Readmissions: real later stays of the same patient, in rounds (a readmission may be
    # readmitted in turn).
    todo = np.nonzero(rows["readmit"])[0]
    for _ in range(E.MAX_READMIT_ROUNDS):
        if not len(todo):
            break
        m = len(todo)
        ppat = rows["pat"][todo]
        gap = 1 + np.floor(28 * rng.random(m) ** 1.6).astype(np.int64)
        admit_day = rows["discharge"][todo].astype("datetime64[D]") + gap * np.timedelta64(1, "D")
        age = (admit_day - pop.birth[ppat]) / np.timedelta64(1, "D") / YEAR_DAYS
        present = E.present_conditions(pop, ppat, age)
        dept = E._inpatient_dept(rng, pop, ppat, age, present)
        same = rng.random(m) < 0.5
        dept = np.where(same, rows["dept"][todo], dept)
        excluded = np.isin(dept, E.EXCLUDED_IDX)
        dept[excluded] = DEPT_INDEX["medicine"]
        dept[excluded & (age < 18)] = DEPT_INDEX["pediatrics"]
        dept[(dept == DEPT_INDEX["obstetrics"])] = DEPT_INDEX["medicine"]
        adm = np.where(rng.random(m) < 0.8, 0, 1)
        site = np.where(rng.random(m) < 0.85, rows["site"][todo], rng.integers(0, n_sites, m))
        new = _encounter_rows(rng, pop, ppat, admit_day, age, present, np.zeros(m, np.int64), dept,
                              adm, site, todo)
        base = len(rows["pat"])
        rows = _concat([rows, new])
        todo = base + np.nonzero(new["readmit"])[0]
    # Readmissions of the last round that would need another round are dropped as draws
    # (their stays keep a "no" outcome) so every drawn readmission exists.
    rows["readmit"][todo] = False
    rows = _remove_with_descendants(rows, _conflicts(rows))
    # Nothing after death.
    death = np.where(rows["expired"], rows["discharge"], np.datetime64("2200-01-01T00:00:00"))
    first_death = pl.DataFrame({"pat": rows["pat"], "d": death}).group_by("pat").agg(pl.col("d").min())
    fd = np.full(n, np.datetime64("2200-01-01T00:00:00"), dtype="datetime64[us]")
    fd[first_death["pat"].to_numpy()] = first_death["d"].to_numpy()
    rows = _remove_with_descendants(rows, rows["admit"] > fd[rows["pat"]])
    return _assemble(cfg, pop, rows)


def _assemble(cfg: SynthConfig, pop: Population, rows: dict[str, np.ndarray]) -> Chunk:
    order = np.lexsort((rows["admit"], rows["pat"]))
    rows = {k: v[order] for k, v in rows.items()}
    # parent indices point into the pre-sort order; translate to encounter ids below.
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    parent = rows["parent"]
    parent_sorted = np.where(parent >= 0, inv[np.maximum(parent, 0)], -1)
    n = len(order)
    first = int(pop.patient_id[0][1:]) if len(pop) else 0
    seq = np.arange(n)
    eid = np.char.add("E", np.char.add(np.char.zfill((rows["pat"] + first).astype(str), 8),
                                       np.char.zfill(_rank_within(rows["pat"]).astype(str), 4)))
    enc = pl.DataFrame({
        "encounter_id": eid,
        "patient_id": pop.patient_id[rows["pat"]],
        "site": np.asarray(cfg.sites)[rows["site"]],
        "department": np.asarray(DEPT_KEYS)[rows["dept"]],
        "encounter_class": np.asarray(E.CLASSES)[rows["cls"]],
        "admission_type": np.asarray(E.ADMISSION_TYPES)[rows["adm_type"]],
        "admit_time": rows["admit"],
        "discharge_time": rows["discharge"],
        "discharge_disposition": np.where(rows["cls"] == 0, np.asarray(DISPOSITIONS)[rows["disposition"]], "home"),
        "payer": np.asarray(PAYERS)[rows["payer"]],
        # latent and internal columns (not written to the export)
        "pat": rows["pat"], "row": seq, "parent_row": parent_sorted, "age": rows["age"],
        "dept_i": rows["dept"], "cls_i": rows["cls"], "payer_i": rows["payer"], "site_i": rows["site"],
        "adm_i": rows["adm_type"], "disp_i": rows["disposition"],
        **{k: rows[k] for k in _FACT_COLUMNS},
        "housing": pop.housing_unstable[rows["pat"]],
        "effect": pop.effect[rows["pat"]],
        "year": rows["admit_day"].astype("datetime64[Y]").astype(int) + 1970,
        "readmission_eligible": (rows["cls"] == 0) & ~np.isin(rows["dept"], E.EXCLUDED_IDX),
    })
    enc = enc.with_columns(prior_stays=_prior_stays(enc))
    return Chunk(pop=pop, enc=enc, m={k: rows[k] for k in MATRICES})


# Per-stay facts kept as encounter columns (see encounters.simulate_stays).
_FACT_COLUMNS = ("dx", "covid", "burden", "ams", "points", "dnr", "dnr_discussed", "function", "procedure",
                 "no_auth", "obs_dx", "expired", "los_days", "readmit", "denied", "lives_alone", "substance",
                 "abnormal", "high_risk", "no_followup")


def _prior_stays(enc: pl.DataFrame) -> pl.Series:
    """Inpatient stays of the same patient discharged in the 365 days before this admission
    (what a note means by "third admission this year")."""
    inp = enc.filter(pl.col("cls_i") == 0).select("row", "pat", "admit_time", "discharge_time")
    pairs = inp.join(inp, on="pat", suffix="_b").filter(
        (pl.col("discharge_time_b") <= pl.col("admit_time"))
        & (pl.col("discharge_time_b") > pl.col("admit_time") - pl.duration(days=365)))
    counts = pairs.group_by("row").len()
    return enc.select("row").join(counts, on="row", how="left", maintain_order="left")["len"].fill_null(0).cast(
        pl.Int64)


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within runs of equal values of a sorted array."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, np.int64)
    start = np.r_[0, np.nonzero(np.diff(groups))[0] + 1]
    idx = np.arange(n)
    return idx - np.repeat(start, np.diff(np.r_[start, n]))


READMISSION_EXCLUDED_DEPTS = READMISSION_EXCLUDED
