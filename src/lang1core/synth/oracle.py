"""The oracle: for each task-eligible inpatient stay, the latent model's probability of each
outcome given the facts its note asserts (the tasks and option order of
src/lang1core/remede/tasks.py).

H&P tasks (mortality, los, cci, denial) condition on the H&P; readmission on the discharge
summary. Labels are read off the written tables the way a downstream stage would compute them,
so the oracle is scored on the real labels.

LOS is stored as a distribution over whole days (`classes` = "days"): the task bins stays at
the train split's quartiles, which only the ReMedE build knows, so evaluation maps the days to
the task's bins with `lang1core.remede.labels.day_probs_to_bins`. Every other task's probabilities follow the
task's options (`classes` = "options").

`ablated_oracle` recomputes the same probabilities as a reader would that ignores negation,
uncertainty and experiencer cues (every mentioned condition, event or code status read as
present): its lower AUROC shows that those cues carry signal.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lang1core.charlson import cci_bin
from lang1core.synth import latent
from lang1core.synth.coding import cci_bin_probs, cci_distribution, condition_code_probs
from lang1core.synth.encounters import DX_CAT, burden
from lang1core.synth.hospital import Chunk

TASKS = ("readmission", "mortality", "los", "cci", "denial")
SCHEMA = {"task": pl.String, "encounter_id": pl.String, "classes": pl.String, "probs": pl.List(pl.Float64),
          "label": pl.Int64}


def _binary(p: np.ndarray) -> np.ndarray:
    return np.stack([1 - p, p], axis=1)


def _frame(task, eid, probs: np.ndarray, label, classes: str = "options") -> pl.DataFrame:
    return pl.DataFrame({"task": np.full(len(eid), task), "encounter_id": eid, "classes": np.full(len(eid), classes),
                         "probs": pl.Series(probs.tolist(), dtype=pl.List(pl.Float64)) if len(eid) else
                         pl.Series([], dtype=pl.List(pl.Float64)),
                         "label": np.asarray(label, dtype=np.int64)}, schema=SCHEMA)


def readmission_labels(enc: pl.DataFrame) -> pl.Series:
    """1 where the same patient has an inpatient admission within 30 days after discharge."""
    inp = enc.filter(pl.col("encounter_class") == "inpatient").sort(["patient_id", "admit_time"])
    return inp.select(
        "encounter_id",
        label=((pl.col("admit_time").shift(-1).over("patient_id") - pl.col("discharge_time"))
               <= pl.duration(days=30)).fill_null(False).cast(pl.Int64),
    )


_COLUMNS = ("age", "burden", "dnr", "dept_i", "covid", "adm_i", "year", "payer_i", "housing", "substance",
            "lives_alone", "los_days", "disp_i", "expired", "encounter_id", "points", "function", "procedure",
            "no_auth", "obs_dx", "site_i", "abnormal", "high_risk", "no_followup", "dx")


def chunk_oracle(chunk: Chunk, claims: pl.DataFrame, cci: pl.DataFrame, ablate: bool = False) -> pl.DataFrame:
    enc = chunk.enc
    rows = np.nonzero(enc["cls_i"].to_numpy() == 0)[0]
    e = enc[rows]
    g = {c: e[c].to_numpy() for c in _COLUMNS}
    m = {k: v[rows] for k, v in chunk.m.items()}
    present, possible = m["present"], m["possible"]
    n_events = m["events"].sum(1)
    if ablate:
        # Without the cues every mention reads as an assertion about this patient now.
        present = present | possible | m["family"] | m["negated"]
        possible = np.zeros_like(possible)
        g["burden"] = burden(present, DX_CAT[g["dx"]])
        g["dnr"] = g["dnr"] | e["dnr_discussed"].to_numpy()
        n_events = n_events + m["negated_events"].sum(1)
    elective = g["adm_i"] == 2
    y2024 = g["year"] >= 2024
    eid = g["encounter_id"]
    out = []
    # mortality
    mu = latent.mortality_visible(g["age"], g["burden"], g["dnr"], g["dept_i"], g["covid"], g["points"],
                                  g["site_i"], y2024)
    sd = latent.hidden_sd("mortality", latent.MORT_PATIENT, latent.MORT_SIGMA, y2024)
    out.append(_frame("mortality", eid, _binary(latent.expected_sigmoid(mu, sd)), g["expired"]))
    # los: a distribution over whole days
    mu = latent.los_visible(g["age"], g["burden"], g["dept_i"], elective, g["covid"], y2024, g["points"],
                            g["function"], g["lives_alone"], g["procedure"], g["site_i"])
    sd = latent.hidden_sd("los", latent.LOS_PATIENT, latent.LOS_SIGMA, y2024)
    out.append(_frame("los", eid, latent.los_day_probs(mu, sd), np.minimum(g["los_days"], latent.LOS_MAX_DAYS),
                      classes="days"))
    # denial: stays with a claim
    claim = claims.filter(pl.col("encounter_id").is_in(pl.Series(eid).implode()))
    has = np.isin(eid, claim["encounter_id"].to_numpy())
    mu = latent.denial_visible(m["need"].sum(1), g["payer_i"], elective, g["no_auth"], g["obs_dx"], g["points"],
                               g["year"], g["site_i"])
    p = latent.expected_sigmoid(mu, latent.noise_sd("denial", latent.DENIAL_SIGMA, y2024))
    status = dict(zip(claim["encounter_id"].to_list(), claim["status"].to_list()))
    lab = np.array([status.get(x, "").startswith("final,") for x in eid[has]])
    out.append(_frame("denial", eid[has], _binary(p[has]), lab))
    # cci: distribution of the coded index given the H&P's problem list
    dist = cci_distribution(condition_code_probs(present, possible, g["dx"], g["year"],
                                                 np.zeros(len(rows), np.int64), g["site_i"]))
    lab = pl.DataFrame({"encounter_id": eid}).join(
        cci.select("encounter_id", cci_bin(pl.col("cci")).alias("b")), on="encounter_id", how="left",
        maintain_order="left")["b"]
    keep = lab.is_not_null().to_numpy()
    out.append(_frame("cci", eid[keep], cci_bin_probs(dist)[keep], lab.to_numpy()[keep]))
    # readmission: eligible index stays, from the discharge summary
    elig = e["readmission_eligible"].to_numpy()
    mu = latent.readmission_visible(g["age"], g["burden"], g["housing"], g["substance"], g["lives_alone"],
                                    g["los_days"], g["disp_i"], g["dept_i"], n_events, g["abnormal"],
                                    g["high_risk"], g["no_followup"], g["site_i"], y2024)
    sd = latent.hidden_sd("readmission", latent.READMIT_PATIENT, latent.READMIT_SIGMA, y2024)
    p = np.where(g["expired"], 0.0, latent.expected_sigmoid(mu, sd))
    labels = pl.DataFrame({"encounter_id": eid}).join(
        readmission_labels(enc), on="encounter_id", how="left", maintain_order="left")["label"].to_numpy()
    out.append(_frame("readmission", eid[elig], _binary(p[elig]), labels[elig]))
    return pl.concat(out)


def ablated_oracle(cfg) -> pl.DataFrame:
    """The oracle of `cfg`'s hospital read without negation, uncertainty and experiencer cues
    (same schema as the oracle parquet). Regenerates the chunks in memory (no notes)."""
    from dataclasses import replace

    from lang1core.synth.writer import chunk_tables

    cfg = replace(cfg, write_notes=False)
    n_chunks = -(-cfg.n_patients // cfg.chunk_size)
    frames = []
    for c in range(n_chunks):
        first = c * cfg.chunk_size
        _, oracle = chunk_tables(cfg, c, first, min(cfg.chunk_size, cfg.n_patients - first), ablate=True)
        frames.append(oracle)
    return pl.concat(frames)
