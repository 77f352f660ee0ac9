"""Claims: one per billed encounter (self-pay encounters send none).

An initially denied claim ends "final, adverse determination" (denial upheld) or "final,
favorable determination" (overturned on appeal); both count as denied for the study's task.
"""

from __future__ import annotations

import numpy as np
import polars as pl

DENIED_STATUSES = ("final, adverse determination", "final, favorable determination")
PAID_STATUSES = ("paid", "paid, adjusted")


def claims_frame(rng: np.random.Generator, enc: pl.DataFrame) -> pl.DataFrame:
    billed = enc.filter(pl.col("payer") != "self_pay")
    n = billed.height
    denied = billed["denied"].to_numpy()
    status = np.where(denied, np.where(rng.random(n) < 0.55, DENIED_STATUSES[1], DENIED_STATUSES[0]),
                      np.where(rng.random(n) < 0.96, PAID_STATUSES[0], PAID_STATUSES[1]))
    submitted = billed["discharge_time"].dt.date().to_numpy() + rng.integers(2, 21, n).astype("timedelta64[D]")
    wait = np.where(denied, rng.integers(60, 200, n), rng.integers(10, 60, n)).astype("timedelta64[D]")
    return pl.DataFrame({
        "claim_id": pl.Series(billed["encounter_id"]).str.replace("^E", "C"),
        "encounter_id": billed["encounter_id"],
        "payer": billed["payer"],
        "status": status,
        "submitted_date": submitted,
        "determination_date": submitted + wait,
    })
