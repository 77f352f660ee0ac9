"""The oracle: for each task-eligible inpatient stay, the latent model's probability of each
outcome given the facts its note states (DESIGN §4's tasks and option order).

H&P tasks (mortality, los, cci, denial) condition on the H&P: acuity enters through its
Gaussian posterior given the printed vitals and labs. Readmission conditions on the
discharge summary (length of stay and disposition are printed; acuity adds nothing then,
because the readmission draw does not depend on it). Labels are read off the written tables
the way a downstream stage would compute them, so the oracle is scored on the real labels.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lang1core.charlson import cci_bin
from lang1core.synth import latent
from lang1core.synth.coding import cci_bin_probs, cci_distribution, condition_code_probs
from lang1core.synth.hospital import Chunk

TASKS = ("readmission", "mortality", "los", "cci", "denial")
SCHEMA = {"task": pl.String, "encounter_id": pl.String, "probs": pl.List(pl.Float64), "label": pl.Int64}


def _binary(p: np.ndarray) -> list[list[float]]:
    return np.stack([1 - p, p], axis=1)


def _frame(task, eid, probs: np.ndarray, label) -> pl.DataFrame:
    return pl.DataFrame({"task": np.full(len(eid), task), "encounter_id": eid,
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


def chunk_oracle(chunk: Chunk, claims: pl.DataFrame, cci: pl.DataFrame) -> pl.DataFrame:
    enc = chunk.enc
    rows = np.nonzero(enc["cls_i"].to_numpy() == 0)[0]
    e = enc[rows]
    g = {c: e[c].to_numpy() for c in ("age", "burden", "dnr", "dept_i", "covid", "a_mean", "a_var", "adm_i",
                                      "year", "doc_missing", "payer_i", "housing", "substance", "lives_alone",
                                      "los_days", "disp_i", "expired", "encounter_id", "denied")}
    elective = g["adm_i"] == 2
    out = []
    # mortality
    mu = latent.mortality_visible(g["age"], g["burden"], g["dnr"], g["dept_i"], g["covid"])
    p = latent.expected_sigmoid(mu + latent.MORT_BETA_A * g["a_mean"],
                                np.sqrt(latent.MORT_BETA_A**2 * g["a_var"] + latent.MORT_SIGMA**2))
    out.append(_frame("mortality", g["encounter_id"], _binary(p), g["expired"]))
    # los
    mu = latent.los_visible(g["age"], g["burden"], g["dept_i"], elective, g["covid"], g["year"] == 2024)
    probs = latent.los_bin_probs(mu + latent.LOS_BETA_A * g["a_mean"],
                                 np.sqrt(latent.LOS_BETA_A**2 * g["a_var"] + latent.LOS_SIGMA**2))
    out.append(_frame("los", g["encounter_id"], probs, latent.los_bin(g["los_days"])))
    # denial: stays with a claim
    claim = claims.filter(pl.col("encounter_id").is_in(pl.Series(g["encounter_id"]).implode()))
    has = np.isin(g["encounter_id"], claim["encounter_id"].to_numpy())
    mu = latent.denial_visible(g["doc_missing"], g["payer_i"], elective, g["year"])
    p = latent.expected_sigmoid(mu + latent.DENIAL_BETA_A * g["a_mean"],
                                np.sqrt(latent.DENIAL_BETA_A**2 * g["a_var"] + latent.DENIAL_SIGMA**2))
    status = dict(zip(claim["encounter_id"].to_list(), claim["status"].to_list()))
    lab = np.array([status.get(x, "") .startswith("final,") for x in g["encounter_id"][has]])
    out.append(_frame("denial", g["encounter_id"][has], _binary(p[has]), lab))
    # cci: distribution of the coded index given the H&P's problem list
    dist = cci_distribution(condition_code_probs(chunk.present[rows], e["dx"].to_numpy(), g["year"],
                                                 np.zeros(len(rows), np.int64)))
    lab = pl.DataFrame({"encounter_id": g["encounter_id"]}).join(
        cci.select("encounter_id", cci_bin(pl.col("cci")).alias("b")), on="encounter_id", how="left",
        maintain_order="left")["b"]
    keep = lab.is_not_null().to_numpy()
    out.append(_frame("cci", g["encounter_id"][keep], cci_bin_probs(dist)[keep], lab.to_numpy()[keep]))
    # readmission: eligible index stays, from the discharge summary
    elig = e["readmission_eligible"].to_numpy()
    mu = latent.readmission_visible(g["age"], g["burden"], g["housing"], g["substance"], g["lives_alone"],
                                    g["los_days"], g["disp_i"], g["dept_i"])
    p = np.where(g["expired"], 0.0, latent.expected_sigmoid(mu, np.full(len(mu), latent.READMIT_SIGMA)))
    labels = pl.DataFrame({"encounter_id": g["encounter_id"]}).join(
        readmission_labels(enc), on="encounter_id", how="left", maintain_order="left")["label"].to_numpy()
    out.append(_frame("readmission", g["encounter_id"][elig], _binary(p[elig]), labels[elig]))
    return pl.concat(out)
