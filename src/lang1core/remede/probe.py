"""Reading-comprehension probe (study Fig. 3a): questions about one note whose answer the
note itself states, so that failing them means the model does not read the note.

Two questions per H&P example of the chosen splits, four options each:
- age band of the patient, from the age the note itself prints ("70-year-old", "70 yo"):
  notes may round or shift the age against the registered birth date, and the probe asks
  what the note says; notes that print no age get no age question (counted);
- admitting service (the H&P names it): the true department and three others of the
  hospital's departments, in a seeded order per example.
Stays without a recorded department (e.g. MIMIC-III) get only the age question.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lang1core.remede.splits import unit_hash
from lang1core.remede.tasks import (PROBE_AGE_EDGES, PROBE_AGE_OPTIONS, PROBE_AGE_QUESTION,
                                    PROBE_DEPARTMENT_QUESTION, PROBE_N_OPTIONS)


def department_text(dept: str) -> str:
    return dept.replace("_", " ")


# How notes print an age in years.
AGE_PATTERN = r"(?i)\b(\d{1,3})\s*(?:-|\s)?\s*(?:years?[- ]old|yo\b|y/o|y\.o\.)"


def probe_examples(hp: pl.DataFrame, departments: list[str], seed: int) -> tuple[pl.DataFrame, list[tuple[str, int]]]:
    """Probe rows from H&P task examples `hp` (example columns, one per encounter)."""
    if hp.height == 0:
        return hp.with_columns(probe=pl.lit(None, pl.String)), []
    printed = pl.col("text").str.extract(AGE_PATTERN, 1).cast(pl.Int64, strict=False)
    age_label = pl.lit(0, pl.Int64)
    for e in PROBE_AGE_EDGES:
        age_label = age_label + (printed >= e).cast(pl.Int64)
    stated = hp.filter(printed.is_not_null())
    drops = [("probe: note prints no age (no age question)", hp.height - stated.height)]
    age = stated.with_columns(
        example_id=pl.lit("probe_age:") + pl.col("encounter_id"), label=age_label,
        options=pl.lit(list(PROBE_AGE_OPTIONS), pl.List(pl.String)), question=pl.lit(PROBE_AGE_QUESTION),
        probe=pl.lit("age_band"))
    with_dept = hp.filter(pl.col("department").is_not_null())
    drops.append(("probe: no department recorded (age question only)", hp.height - with_dept.height))
    depts = sorted(set(departments))
    if len(depts) < PROBE_N_OPTIONS:
        drops.append((f"probe: fewer than {PROBE_N_OPTIONS} departments in the export", with_dept.height))
        return age, drops
    opts, labels = [], []
    ids = with_dept["encounter_id"].to_list()
    for i, (eid, dept) in enumerate(zip(ids, with_dept["department"].to_list())):
        rng = np.random.default_rng([seed, int(unit_hash([eid], seed)[0] * 2**32)])
        others = [d for d in depts if d != dept]
        pick = [others[j] for j in rng.choice(len(others), PROBE_N_OPTIONS - 1, replace=False)] + [dept]
        order = rng.permutation(PROBE_N_OPTIONS)
        shuffled = [pick[j] for j in order]
        opts.append([department_text(d) for d in shuffled])
        labels.append(shuffled.index(dept))
    dep = with_dept.with_columns(
        example_id=pl.lit("probe_department:") + pl.col("encounter_id"),
        label=pl.Series(labels, dtype=pl.Int64), options=pl.Series(opts, dtype=pl.List(pl.String)),
        question=pl.lit(PROBE_DEPARTMENT_QUESTION), probe=pl.lit("department"))
    return pl.concat([age, dep]).sort("example_id"), drops
