"""One encounter's facts as plain Python values, the unit every note renderer reads.

Built once per chunk from the encounter frame and the fact matrices (hospital.Chunk), so the
renderers never touch numpy or polars per note.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lang1core.synth import physiology
from lang1core.synth.catalog import CONDITIONS, DEPT_KEYS, DISPOSITIONS, PAYERS
from lang1core.synth.course import EVENT_KEYS, NECESSITY, PROCEDURE_OF_DX
from lang1core.synth.encounters import ADMISSION_TYPES, DC_LABS, DX_CODE
from lang1core.synth.hospital import Chunk

COND_KEYS = tuple(c.key for c in CONDITIONS)


@dataclass
class Stay:
    row: int
    age: float
    female: bool
    site: int
    year: int
    dept: str
    dx: str  # principal diagnosis code
    covid: bool
    admission_type: str
    payer: str
    admit: np.datetime64
    discharge: np.datetime64
    birth: np.datetime64
    name_u: np.ndarray
    smoker: int
    housing: bool
    prior_stays: int
    inpatient: bool
    # inpatient facts (defaults for other encounters)
    present: tuple[str, ...] = ()  # condition keys asserted present
    possible: tuple[str, ...] = ()  # raised as possible, not established
    family: tuple[str, ...] = ()  # family history
    negated: tuple[str, ...] = ()  # explicitly denied
    phys: dict | None = None
    ams: bool = False
    dnr: bool = False
    dnr_discussed: bool = False
    function: int = 0
    procedure: str | None = None  # planned procedure (lexicon id)
    need: tuple[str, ...] = ()
    no_auth: bool = False
    lives_alone: bool = False
    substance: bool = False
    los_days: int = 0
    disposition: str = "home"
    expired: bool = False
    events: tuple[str, ...] = ()
    negated_events: tuple[str, ...] = ()
    dc_labs: dict | None = None
    high_risk: bool = False
    no_followup: bool = False

    @property
    def elective(self) -> bool:
        return self.admission_type == "elective"

    @property
    def child(self) -> bool:
        return self.age < 18


def _names(mask_row: np.ndarray, keys) -> tuple[str, ...]:
    return tuple(keys[i] for i in np.nonzero(mask_row)[0])


def stays(chunk: Chunk, rows: np.ndarray) -> list[Stay]:
    enc = chunk.enc[rows]
    pop = chunk.pop
    m = {k: v[rows] for k, v in chunk.m.items()}
    col = {c: enc[c].to_list() for c in ("age", "site_i", "year", "dept_i", "covid", "adm_i", "payer_i", "pat",
                                         "prior_stays", "cls_i", "dnr", "dnr_discussed", "function", "procedure",
                                         "no_auth", "lives_alone", "substance", "los_days", "disp_i", "expired",
                                         "high_risk", "no_followup", "ams", "dx")}
    admit = enc["admit_time"].to_numpy()
    discharge = enc["discharge_time"].to_numpy()
    out = []
    for i in range(len(rows)):
        p = col["pat"][i]
        s = Stay(row=int(rows[i]), age=col["age"][i], female=pop.sex[p] == "female", site=col["site_i"][i],
                 year=col["year"][i], dept=DEPT_KEYS[col["dept_i"][i]], dx=str(DX_CODE[col["dx"][i]]),
                 covid=col["covid"][i], admission_type=ADMISSION_TYPES[col["adm_i"][i]], payer=PAYERS[col["payer_i"][i]],
                 admit=admit[i], discharge=discharge[i], birth=pop.birth[p], name_u=pop.name_u[p],
                 smoker=int(pop.smoker[p]), housing=bool(pop.housing_unstable[p]), prior_stays=col["prior_stays"][i],
                 inpatient=col["cls_i"][i] == 0, present=_names(m["present"][i], COND_KEYS))
        if s.inpatient:
            s.possible = _names(m["possible"][i], COND_KEYS)
            s.family = _names(m["family"][i], COND_KEYS)
            s.negated = _names(m["negated"][i], COND_KEYS)
            s.phys = dict(zip(physiology.NAMES, m["phys"][i].tolist()))
            s.ams, s.dnr, s.dnr_discussed = col["ams"][i], col["dnr"][i], col["dnr_discussed"][i]
            s.function = col["function"][i]
            s.procedure = PROCEDURE_OF_DX.get(s.dx) if col["procedure"][i] else None
            s.need = _names(m["need"][i], NECESSITY)
            s.no_auth, s.lives_alone, s.substance = col["no_auth"][i], col["lives_alone"][i], col["substance"][i]
            s.los_days, s.disposition, s.expired = col["los_days"][i], DISPOSITIONS[col["disp_i"][i]], col["expired"][i]
            s.events = _names(m["events"][i], EVENT_KEYS)
            s.negated_events = _names(m["negated_events"][i], EVENT_KEYS)
            s.dc_labs = dict(zip(DC_LABS, m["dc_labs"][i].tolist()))
            s.high_risk, s.no_followup = col["high_risk"][i], col["no_followup"][i]
        out.append(s)
    return out
