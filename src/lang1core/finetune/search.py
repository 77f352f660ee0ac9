"""Learning-rate search: a few short trials, rates drawn log-uniformly
(docs/study.md#learning-rate-search).

The study is an Optuna study in a SQLite file beside the run, so a search that is killed
resumes where it stopped: finished trials are kept, a trial left RUNNING by the killed
process is marked FAIL and its slot is tried again with the same rate. Slot j's rate is
drawn from a generator seeded by (seed, j), so the rates do not depend on interruptions.
The trial table is written to search.csv after every trial.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lang1core.publish import published_file

log = logging.getLogger(__name__)


def slot_lr(seed: int, slot: int, low: float, high: float) -> float:
    rng = np.random.default_rng([seed, slot])
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def lr_search(
    objective: Callable[[float], tuple[float, dict]],
    storage_file: str | Path,
    table_file: str | Path,
    n_trials: int = 5,
    low: float = 1e-6,
    high: float = 1e-3,
    seed: int = 0,
) -> float:
    """Run the missing trials and return the best learning rate.

    `objective(lr) -> (value to maximise, extra columns for the table)`.
    """
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage_file = Path(storage_file)
    storage_file.parent.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(
        study_name="lr", storage=f"sqlite:///{storage_file}", direction="maximize",
        load_if_exists=True,
    )
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        log.warning("trial %d was left running by an interrupted search; marking it failed",
                    t.number)
        study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
    dist = {"lr": FloatDistribution(low, high, log=True)}
    while True:
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(done) >= n_trials:
            break
        lr = slot_lr(seed, len(done), low, high)
        study.enqueue_trial({"lr": lr})
        trial = study.ask(dist)
        log.info("trial %d: lr %.3g", trial.number, lr)
        value, extra = objective(lr)
        for k, v in extra.items():
            trial.set_user_attr(k, v)
        study.tell(trial, value)
        write_table(study, table_file)
    write_table(study, table_file)
    best = study.best_trial
    log.info("best lr %.3g (trial %d, validation %.4f)", best.params["lr"], best.number, best.value)
    return float(best.params["lr"])


def write_table(study, path: str | Path) -> None:
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append({"trial": t.number, "state": t.state.name, "lr": t.params.get("lr"),
                     "value": t.value, **t.user_attrs})
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with published_file(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys or ["trial", "state", "lr", "value"])
        w.writeheader()
        w.writerows(rows)
