"""How the ReMedE tasks are built: every choice the study made, as explicit fields.

`BuildConfig.from_dict` takes the workflow's `remede:` config section (already validated by
the schema) so the library never reads YAML itself; defaults are the study's
(docs/study.md#tasks-and-labels).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# The study's windows (docs/study.md#windows-and-splits): train/val/test 8:1:1 from 2013 to
# May 2021, temporal test June-December 2021, temporal 2024 the headline. Both ends
# inclusive, on the note's date.
DEFAULT_WINDOWS = {
    "train": ("2013-01-01", "2021-05-31"),
    "temporal": ("2021-06-01", "2021-12-31"),
    "temporal_2024": ("2024-01-01", "2024-12-31"),
}
# Denial has its own (claims data only from May 2021): train May 2021-Feb 2022, temporal
# March-April 2022, temporal January 2024.
DENIAL_WINDOWS = {
    "train": ("2021-05-01", "2022-02-28"),
    "temporal": ("2022-03-01", "2022-04-30"),
    "temporal_2024": ("2024-01-01", "2024-01-31"),
}

DEFAULT_NOTE_TYPES = {
    "readmission": ["discharge_summary"],
    "mortality": ["history_and_physical"],
    "los": ["history_and_physical"],
    "cci": ["history_and_physical"],
    "denial": ["history_and_physical"],
}

# Case-insensitive regular expressions whose presence in a task's input note would give its
# label away. Mortality's are the study's examples ("expired", "time of death", "pronounced").
DEFAULT_LEAKAGE_PATTERNS = {
    "mortality": [r"\bexpired\b", r"time of death", r"\bpronounced\b", r"\bdeceased\b", r"passed away",
                  r"\bdied\b", r"\bautopsy\b"],
    "readmission": [r"\breadmitted within\b", r"\bwas readmitted\b", r"\breturned to the hospital\b"],
    # (Not "discharged on ...": an H&P may recount an earlier stay's discharge.)
    "los": [r"length of stay", r"\bdischarge date\b"],
    "cci": [r"charlson"],
    "denial": [r"claim (was |is )?denied", r"adverse determination", r"favorable determination",
               r"denial of (the )?claim"],
}


def _date(v) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


@dataclass(frozen=True)
class Windows:
    """Inclusive date ranges (on the note's date) of the time-based splits of one task."""

    train: tuple[dt.date, dt.date]  # train/val/test are drawn 8:1:1 inside this range
    temporal: tuple[dt.date, dt.date]  # right after the training period
    temporal_2024: tuple[dt.date, dt.date]  # the study's headline test

    @classmethod
    def from_dict(cls, d: dict) -> "Windows":
        missing = {"train", "temporal", "temporal_2024"} - set(d)
        if missing:
            raise KeyError(f"remede windows: missing {sorted(missing)} (have {sorted(d)})")
        out = {k: (_date(d[k][0]), _date(d[k][1])) for k in ("train", "temporal", "temporal_2024")}
        for k, (a, b) in out.items():
            if b < a:
                raise ValueError(f"remede windows.{k}: end {b} is before start {a}")
        return cls(**out)

    def items(self):
        return (("train", self.train), ("temporal", self.temporal), ("temporal_2024", self.temporal_2024))


@dataclass(frozen=True)
class BuildConfig:
    # Which tasks to build (MIMIC-III has no claims, so its config drops denial).
    tasks: tuple[str, ...] = ("readmission", "mortality", "los", "cci", "denial")
    # Per task: the note types that may feed it, in priority order; the first type present
    # for an encounter wins (MIMIC-III: one admission note per stay, docs/study.md#mimic-iii).
    note_types: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_NOTE_TYPES))
    # Per task: notes written more than this many hours after admission are not admission
    # notes (MIMIC-III construction: 120 h); a task not listed keeps every note.
    max_note_hours: dict[str, float] = field(default_factory=dict)
    # Encounter classes that count as hospital stays for every task.
    encounter_classes: tuple[str, ...] = ("inpatient",)
    # Readmission: window after discharge (days, inclusive), excluded index departments, and
    # which later encounters count as a readmission.
    readmission_days: int = 30
    readmission_excluded_departments: tuple[str, ...] = ("rehabilitation", "dialysis", "palliative_care")
    readmission_classes: tuple[str, ...] = ("inpatient",)
    # Drop index stays ending in death (they cannot be readmitted). The study lists only the
    # department exclusions, so they stay in (label 0) by default.
    readmission_exclude_expired: bool = False
    # Mortality: dispositions meaning death in hospital.
    mortality_dispositions: tuple[str, ...] = ("expired",)
    # LOS: fixed upper bin edges (e.g. (2, 3, 5), the study's) or None for the train split's
    # quartiles; unit "calendar_days" (floor of 24 h periods, the study) or "continuous"
    # (fractional days, the study's MIMIC-III construction).
    los_edges: tuple[float, ...] | None = None
    los_unit: str = "calendar_days"
    # Denial: claim statuses meaning "denied at first" (whatever the appeal's outcome).
    denial_statuses: tuple[str, ...] = ("final, adverse determination", "final, favorable determination")
    # Split windows: the default for every task, with per-task overrides (denial).
    windows: Windows = field(default_factory=lambda: Windows.from_dict(DEFAULT_WINDOWS))
    task_windows: dict[str, Windows] = field(default_factory=lambda: {"denial": Windows.from_dict(DENIAL_WINDOWS)})
    # train/val/test shares inside the training window.
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    # "patient": every example of a patient lands in one of train/val/test (no patient in
    # both train and test); "encounter": examples are assigned independently.
    split_by: str = "patient"
    # seen_patient is True when the patient has a train example in any task ("all_tasks",
    # what a joint finetune sees) or in the same task only ("task").
    seen_scope: str = "all_tasks"
    # Site whose examples form the `external` split (and appear in no other split).
    held_out_site: str | None = None
    # Leakage check: patterns per task and the largest share of a task's examples that may
    # match before the build fails.
    leakage_patterns: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_LEAKAGE_PATTERNS))
    leakage_max_rate: float = 0.01
    # Regular expressions of phrases a pattern match inside of is never a leak, e.g. a
    # site's template line "Advance directive: if patient expired, notify ..." .
    leakage_allow: tuple[str, ...] = ()
    # Reading-comprehension probe: which splits to build it for.
    probe_splits: tuple[str, ...] = ("val", "test")
    seed: int = 3407

    def windows_of(self, task: str) -> Windows:
        return self.task_windows.get(task, self.windows)

    @classmethod
    def from_dict(cls, d: dict | None, *, seed: int = 3407, held_out_site: str | None = None) -> "BuildConfig":
        d = dict(d or {})
        kw: dict = {"seed": seed, "held_out_site": held_out_site}
        simple = {"tasks": tuple, "max_note_hours": dict, "encounter_classes": tuple,
                  "mortality_dispositions": tuple, "denial_statuses": tuple, "split_by": None,
                  "seen_scope": None, "probe_splits": tuple}
        for k, conv in simple.items():
            if k in d and d[k] is not None:
                kw[k] = conv(d[k]) if conv else d[k]
        if "note_types" in d:
            kw["note_types"] = {**DEFAULT_NOTE_TYPES, **{k: list(v) for k, v in d["note_types"].items()}}
        r = d.get("readmission") or {}
        if "days" in r:
            kw["readmission_days"] = int(r["days"])
        if "excluded_departments" in r:
            kw["readmission_excluded_departments"] = tuple(r["excluded_departments"])
        if "classes" in r:
            kw["readmission_classes"] = tuple(r["classes"])
        if "exclude_expired" in r:
            kw["readmission_exclude_expired"] = bool(r["exclude_expired"])
        los = d.get("los") or {}
        if los.get("edges") is not None:
            kw["los_edges"] = tuple(los["edges"])
        if "unit" in los:
            kw["los_unit"] = los["unit"]
        if "windows" in d:
            kw["windows"] = Windows.from_dict(d["windows"])
        if "task_windows" in d:
            kw["task_windows"] = {t: Windows.from_dict(w) for t, w in (d["task_windows"] or {}).items()}
        if "split_fractions" in d:
            kw["split_fractions"] = tuple(float(x) for x in d["split_fractions"])
        lk = d.get("leakage") or {}
        if "patterns" in lk:
            kw["leakage_patterns"] = {**DEFAULT_LEAKAGE_PATTERNS, **lk["patterns"]}
        if "max_rate" in lk:
            kw["leakage_max_rate"] = float(lk["max_rate"])
        if lk.get("allow"):
            kw["leakage_allow"] = tuple(lk["allow"])
        cfg = cls(**kw)
        cfg.check()
        return cfg

    def check(self) -> None:
        from lang1core.remede.tasks import TASKS

        for t in self.tasks:
            if t not in TASKS:
                raise ValueError(f"remede.tasks: unknown task {t!r}; expected some of {list(TASKS)}")
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1) > 1e-6:
            raise ValueError(f"remede.split_fractions: {self.split_fractions} must be three shares summing to 1")
        if self.split_by not in ("patient", "encounter"):
            raise ValueError(f"remede.split_by: {self.split_by!r}; expected 'patient' or 'encounter'")
        if self.seen_scope not in ("all_tasks", "task"):
            raise ValueError(f"remede.seen_scope: {self.seen_scope!r}; expected 'all_tasks' or 'task'")
        if self.los_unit not in ("calendar_days", "continuous"):
            raise ValueError(f"remede.los.unit: {self.los_unit!r}; expected 'calendar_days' or 'continuous'")
        import re

        for task, pats in {**self.leakage_patterns, "allow": list(self.leakage_allow)}.items():
            for p in pats:
                try:
                    re.compile(p)
                except re.error as e:
                    raise ValueError(f"remede.leakage.{'allow' if task == 'allow' else 'patterns.' + task}: "
                                     f"{p!r} is not a regular expression ({e})") from None
        if self.los_edges is not None and list(self.los_edges) != sorted(set(self.los_edges)):
            raise ValueError(f"remede.los.edges: {list(self.los_edges)} must be strictly increasing")
