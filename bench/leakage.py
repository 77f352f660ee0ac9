"""Leakage check throughput: notes/s of the context-aware check (lang1core.remede.leakage)
against the bare pattern screen it replaced, on H&P-like notes where a share mention deaths
that are no leak (family history, relatives, donors, negation) and a few state the outcome.

    python bench/leakage.py [--notes 50000] [--fp-share 0.166] [--leak-share 0.005]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from lang1core.remede.config import DEFAULT_LEAKAGE_PATTERNS
from lang1core.remede.leakage import leakage_report

BODY = ("CHIEF COMPLAINT: shortness of breath\nHPI: {age} yo with CHF, CKD 3 and T2DM presents with {d} days "
        "of worsening dyspnea and orthopnea. Denies chest pain.\nPMH: HFrEF (EF 30%), CKD 3b, T2DM, HTN.\n"
        "MEDICATIONS: furosemide, carvedilol, insulin glargine.\n{extra}\nPHYSICAL EXAM: JVP 12 cm, bibasilar "
        "crackles, 2+ edema.\nASSESSMENT AND PLAN:\n1. Acute on chronic HFrEF: IV diuresis, daily weights.\n"
        "2. CKD: trend creatinine.\n")
FALSE_POSITIVES = ("FAMILY HISTORY: Father died at 86 of a stroke. Mother deceased (breast cancer).",
                   "SOCIAL HISTORY: Widowed; husband passed away in 2015. Lives alone.",
                   "Maternal grandfather died of colon cancer at 70.",
                   "PMH also: ESRD s/p deceased donor kidney transplant 2012.",
                   "Exam notable for pronounced lower extremity edema.",
                   "Code status discussed, autopsy wishes to be revisited if she died.")
LEAKS = ("Addendum: patient expired at 03:12 on hospital day 4.", "Time of death 14:02, family at bedside.")


def notes(n: int, fp_share: float, leak_share: float, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    extra = np.where(u < leak_share, rng.choice(LEAKS, n),
                     np.where(u < leak_share + fp_share, rng.choice(FALSE_POSITIVES, n), "SOCIAL HISTORY: no tobacco."))
    text = [BODY.format(age=int(a), d=int(d), extra=e) for a, d, e in
            zip(rng.integers(40, 95, n), rng.integers(1, 7, n), extra)]
    return pl.DataFrame({"example_id": [f"mortality:E{i}" for i in range(n)], "text": text,
                         "label": (u < leak_share).astype(np.int64)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=50_000)
    ap.add_argument("--fp-share", type=float, default=0.166)
    ap.add_argument("--leak-share", type=float, default=0.005)
    a = ap.parse_args()
    df = notes(a.notes, a.fp_share, a.leak_share)
    pats = DEFAULT_LEAKAGE_PATTERNS["mortality"]
    t0 = time.perf_counter()
    raw = df.select(pl.any_horizontal([pl.col("text").str.contains(f"(?i){p}") for p in pats]).sum()).item()
    t_raw = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep = leakage_report(df, pats, 0.01)
    t_ctx = time.perf_counter() - t0
    print(f"{a.notes} notes, {a.fp_share:.1%} with no-leak mentions, {a.leak_share:.1%} stating the outcome")
    print(f"bare patterns:  {raw / a.notes:6.2%} matched   {a.notes / t_raw:>10,.0f} notes/s")
    print(f"context-aware:  {rep['rate']:6.2%} leaking   {a.notes / t_ctx:>10,.0f} notes/s")
    for p, c in rep["patterns"].items():
        if c["raw"]:
            print(f"  {p:<20} leaking {c['matched']:>6}  set aside {c['set_aside']}")


if __name__ == "__main__":
    main()
