"""The synthetic hospital against the study's class ratios, and its oracle's AUROC.

Generates n patients (tables without note text: the outcomes and codes are the same with or
without notes), then prints, for the task window 2013-2024, for 2013-2023 and for 2024:
readmission, mortality and denial rates, the LOS and CCI bin shares (CCI from the stays'
codes with lang1core.charlson, as the ReMedE stage scores it), and the oracle's AUROC per task.

    python bench/synth_calibration.py               # 20,000 patients, seed 3407
    python bench/synth_calibration.py --n-patients 100000 --seed 1
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from lang1core.charlson import cci_bin, charlson_index
from lang1core.finetune.data import auroc
from lang1core.synth import SynthConfig, generate

STUDY = {"readmission": 11.3, "mortality": 1.8, "denial": 13.9, "los": [45.6, 14.5, 16.0, 23.9],
         "cci": [68.4, 21.7, 6.8, 2.9, 0.17]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-patients", type=int, default=20000)
    p.add_argument("--seed", type=int, default=3407)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="synth_calib_") as tmp:
        root = Path(tmp)
        generate(SynthConfig(n_patients=args.n_patients, seed=args.seed, write_notes=False), root / "export",
                 progress=False)
        enc = pl.read_csv(root / "export" / "encounters.csv", infer_schema=False,
                          schema_overrides={"admit_time": pl.Datetime("us")})
        dx = pl.read_csv(root / "export" / "diagnoses.csv", infer_schema=False)
        oracle = pl.read_parquet(root / "oracle" / "oracle.parquet")
    inp = enc.filter(pl.col("encounter_class") == "inpatient").with_columns(year=pl.col("admit_time").dt.year())
    cci = charlson_index(dx.join(inp.select("encounter_id"), on="encounter_id"))
    cci = cci.select("encounter_id", cci_bin(pl.col("cci")).alias("bin"))
    print(f"{args.n_patients:,} patients, seed {args.seed}; shares in % (study's 2024 test in brackets)")
    for label, years in (("2013-2024", (2013, 2024)), ("2013-2023", (2013, 2023)), ("2024", (2024, 2024))):
        ids = inp.filter(pl.col("year").is_between(*years)).select("encounter_id")
        o = oracle.join(ids, on="encounter_id")

        def rate(task: str) -> float:
            return 100 * o.filter(pl.col("task") == task)["label"].mean()

        def bins(frame: pl.DataFrame, col: str, k: int) -> list[float]:
            c = np.bincount(frame[col].to_numpy(), minlength=k)
            return [round(float(100 * x / c.sum()), 2) for x in c]

        print(f"\n{label}: {ids.height:,} inpatient stays")
        for task in ("readmission", "mortality", "denial"):
            print(f"  {task:<12} {rate(task):6.2f}   [{STUDY[task]}]  n={o.filter(pl.col('task') == task).height:,}")
        print(f"  {'los bins':<12} {bins(o.filter(pl.col('task') == 'los'), 'label', 4)}  [{STUDY['los']}]")
        print(f"  {'cci bins':<12} {bins(cci.join(ids, on='encounter_id'), 'bin', 5)}  [{STUDY['cci']}]")
        if label == "2013-2024":
            for task in ("readmission", "mortality", "los", "cci", "denial"):
                t = o.filter(pl.col("task") == task)
                probs, y = np.array(t["probs"].to_list()), t["label"].to_numpy()
                a = auroc(y, probs)
                print(f"  oracle AUROC {task:<12} {a:.3f}")


if __name__ == "__main__":
    main()
