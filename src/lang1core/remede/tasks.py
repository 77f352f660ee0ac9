"""The tasks' definitions: which note feeds each, the question and its options.

Options are in label order: label i is option i, and its letter is LETTERS[i].
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    note_type: str  # the note the question is asked about
    question: str  # printed after the note (study, Appendix H)
    options: tuple[str, ...]  # answer texts in label order


def los_options(edges: tuple[int, ...] | list[int]) -> tuple[str, ...]:
    """Option texts for length-of-stay bins with upper edges in days, e.g. (2, 3, 5) ->
    '0 to 2 days', '3 days', '4 to 5 days', 'more than 5 days' (the study's bins)."""
    texts, low = [], 0
    for high in edges:
        texts.append(f"{low} days" if low == high else f"{low} to {high} days")
        low = high + 1
    texts.append(f"more than {edges[-1]} days")
    return tuple(texts)


# The study's bins; the workflow recomputes LOS edges from the train split's quartiles.
STUDY_LOS_EDGES = (2, 3, 5)

TASKS: dict[str, Task] = {
    "readmission": Task(
        "discharge_summary",
        "Given the above discharge note of the patient, will the patient be readmitted to the "
        "hospital within 30 days of discharge?",
        ("no", "yes"),
    ),
    "mortality": Task(
        "history_and_physical",
        "Given the above history and physical note of the patient, will the patient die "
        "during this hospital admission?",
        ("no", "yes"),
    ),
    "los": Task(
        "history_and_physical",
        "Given the above history and physical note of the patient, how long will the patient "
        "stay in the hospital?",
        los_options(STUDY_LOS_EDGES),
    ),
    "cci": Task(
        "history_and_physical",
        "Given the above history and physical note of the patient, what is the patient's "
        "Charlson Comorbidity Index?",
        # The study's prompt prints "score 4 to 7" for D; the bins are 5-7 (lang1core.charlson.cci_bin).
        ("score 0", "score 1 to 2", "score 3 to 4", "score 5 to 7", "score more than 7"),
    ),
    "denial": Task(
        "history_and_physical",
        "Given the above history and physical note of the patient, will the patient's "
        "insurance claim for this admission be denied?",
        ("no", "yes"),
    ),
}

# Every task has every split (a split may hold no rows). `temporal` is the window right
# after the training period, `temporal_2024` the study's headline test, `external` all of
# the held-out site's examples.
SPLITS: tuple[str, ...] = ("train", "val", "test", "temporal", "temporal_2024", "external")
TEST_SPLITS: tuple[str, ...] = ("test", "temporal", "temporal_2024", "external")


def los_options_continuous(edges: tuple[float, ...] | list[float]) -> tuple[str, ...]:
    """Option texts for continuous LOS bins (fractional days, bins (low, high]), as the study's
    MIMIC-III construction uses: (2.1, 3.9, 6.8) -> 'up to 2.1 days', '2.1 to 3.9 days', ...."""
    e = [f"{x:g}" for x in edges]
    texts = [f"up to {e[0]} days"] + [f"{a} to {b} days" for a, b in zip(e, e[1:])]
    return tuple(texts + [f"more than {e[-1]} days"])


# Reading-comprehension probe (study Fig. 3a): questions whose answer the note itself states,
# so a model that reads the note can answer them. Four options each (constant K per file).
PROBE_AGE_QUESTION = "Given the above note of the patient, how old is the patient?"
PROBE_AGE_OPTIONS = ("younger than 18 years", "18 to 44 years", "45 to 64 years", "65 years or older")
PROBE_AGE_EDGES = (18, 45, 65)  # lower edges of the 2nd..4th age bands (years)
PROBE_DEPARTMENT_QUESTION = "Given the above note of the patient, which service admitted the patient?"
PROBE_N_OPTIONS = 4
