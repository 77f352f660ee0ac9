"""The study's claims, judged from the evaluation stage's tables and predictions.

Each claim becomes rows of one table (tables/claims.csv): what was estimated, the estimate
with its interval, and a verdict by a rule fixed in config (`claims:`) before any result:

  a       zero-shot AUROC is near chance on every task but the exceptions (mortality)
  b       a finetuned model beats the best zero-shot model, per task
  c       clinical+general pretraining beats general-only beats from-scratch with the fewest
          finetuning examples, and the gaps narrow with all of them
  d       joint multi-task finetuning is at least as good as single-task on average, and a
          model finetuned on other tasks beats zero-shot on a task (cross-task transfer)
  e       later test periods score at or below the in-period test
  f       the external site scores at least as well as the internal test
  oracle  the share of the oracle's AUROC above chance a finetuned model reaches (reported)

Single AUROCs (claim a) are the evaluate stage's, from auroc.csv. Every difference between
models or periods comes from `paired.py`: all compared AUROCs on the same patient-clustered
resamples. A row whose inputs are missing (a run the config did not ask for) or too thin (a
split with one class, or too few examples of its classes for the bootstrap to mean anything)
is `not evaluated`, with the reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from tqdm import tqdm

from lang1core.contracts import n_prob_columns, table_frame
from lang1core.evaluate.metrics import patient_key, prob_matrix, rng_for
from lang1core.evaluate.paired import Block, Interval, paired_interval

log = logging.getLogger(__name__)

REPRODUCED, CONTRADICTED, INCONCLUSIVE = "reproduced", "contradicted", "inconclusive"
NOT_EVALUATED, REPORTED = "not evaluated", "reported"
VERDICTS = (REPRODUCED, CONTRADICTED, INCONCLUSIVE, NOT_EVALUATED, REPORTED)
ALL = "all"  # the task of a row that sums a claim up over tasks
SINGLE_TASK_KINDS = ("finetune", "scratch")
# Runs no claim reads: k-shot, pretraining snapshots, the TF-IDF baseline.
UNUSED_KINDS = ("kshot", "trajectory", "tfidf")

# Headline of each claim, as the report prints it.
TITLES = {
    "a": "Zero-shot AUROC is near chance on every task but the exceptions",
    "b": "A finetuned model beats the best zero-shot model, per task",
    "c": "Clinical+general pretraining beats general-only, which beats from-scratch, with the "
         "fewest finetuning examples; the gaps narrow with all of them",
    "d": "Joint multi-task finetuning is at least as good as single-task on average; "
         "cross-task transfer beats zero-shot",
    "e": "Later test periods score at or below the in-period test",
    "f": "The finetuned model transfers to the held-out external site",
    "oracle": "Share of the oracle's AUROC above chance that finetuned models reach",
}

# (model, recipe, task, split) -> predictions joined to their examples (example_id,
# patient_id, label, prob_0..prob_{K-1}, optional oracle_probs), or None when not predicted.
Loader = Callable[[str, str, str, str], pl.DataFrame | None]


@dataclass(frozen=True)
class ClaimSettings:
    """The `claims:` config section with its nulls resolved (see config.yaml)."""

    split: str  # split every single-split claim is judged on (the headline)
    model: str  # base model whose finetuning claims (d, e, f) are judged
    periods: tuple[str, ...]  # in-period test first, then the later periods (claim e)
    internal_split: str  # what the external site is compared with (claim f)
    near_chance_margin: float
    zeroshot_exceptions: tuple[str, ...]
    pretraining_order: tuple[str, ...]
    noninferiority_margin: float
    min_class_examples: int
    n_bootstrap: int
    ci_level: float
    cluster_by_patient: bool
    bootstrap_chunk_elements: int

    @classmethod
    def from_config(cls, config: dict) -> ClaimSettings:
        """From the whole workflow config: nulls take the figures' and evaluate's values, so
        the report judges what the figures show, with the evaluate stage's bootstrap."""
        keys = {"claims": ("split", "model", "near_chance_margin", "zeroshot_exceptions",
                           "pretraining_order", "noninferiority_margin", "min_class_examples"),
                "figures": ("split", "primary_model", "periods", "internal_split"),
                "evaluate": ("n_bootstrap", "ci_level", "cluster_by_patient", "bootstrap_chunk_elements")}
        missing = [f"{sec}.{k}" for sec, ks in keys.items() for k in ks if k not in config.get(sec, {})]
        if missing:
            raise KeyError(f"config lacks {', '.join(missing)} (config.yaml states every default)")
        c, fig, ev = config["claims"], config["figures"], config["evaluate"]
        return cls(
            split=c["split"] or fig["split"], model=c["model"] or fig["primary_model"],
            periods=tuple(fig["periods"]), internal_split=fig["internal_split"],
            near_chance_margin=float(c["near_chance_margin"]),
            zeroshot_exceptions=tuple(c["zeroshot_exceptions"]),
            pretraining_order=tuple(c["pretraining_order"]),
            noninferiority_margin=float(c["noninferiority_margin"]),
            min_class_examples=int(c["min_class_examples"]),
            n_bootstrap=int(ev["n_bootstrap"]), ci_level=float(ev["ci_level"]),
            cluster_by_patient=bool(ev["cluster_by_patient"]),
            bootstrap_chunk_elements=int(ev["bootstrap_chunk_elements"]))

    @property
    def ci_method(self) -> str:
        return "patient" if self.cluster_by_patient else "example"


# --- verdict rules ------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """How an interval [lo, hi] decides a verdict.

    above t:  reproduced when lo > t, contradicted when hi < t
    below t:  reproduced when hi < t, contradicted when lo > t
    within [a, b]:  reproduced when a <= lo and hi <= b, contradicted when hi < a or lo > b
    every:  (over task rows) reproduced when every row is, contradicted when any row is
    report: an estimate, not a claim: always `reported`
    Anything else is inconclusive; an interval that could not be computed is inconclusive."""

    kind: str
    low: float | None = None
    high: float | None = None

    def judge(self, lo: float | None, hi: float | None) -> str:
        if self.kind == "report":
            return REPORTED
        if lo is None or hi is None:
            return INCONCLUSIVE
        if self.kind == "above":
            return REPRODUCED if lo > self.low else CONTRADICTED if hi < self.low else INCONCLUSIVE
        if self.kind == "below":
            return REPRODUCED if hi < self.high else CONTRADICTED if lo > self.high else INCONCLUSIVE
        if self.kind == "within":
            if self.low <= lo and hi <= self.high:
                return REPRODUCED
            return CONTRADICTED if hi < self.low or lo > self.high else INCONCLUSIVE
        raise ValueError(f"rule {self.kind!r} judges task rows, not an interval")

    @property
    def text(self) -> str:
        g = lambda v: f"{v:g}"
        return {
            "above": lambda: f"reproduced if lo > {g(self.low)}; contradicted if hi < {g(self.low)}",
            "below": lambda: f"reproduced if hi < {g(self.high)}; contradicted if lo > {g(self.high)}",
            "within": lambda: (f"reproduced if [lo, hi] lies in [{g(self.low)}, {g(self.high)}]; "
                               f"contradicted if it lies wholly outside"),
            "every": lambda: "reproduced if every task is; contradicted if any task is",
            "report": lambda: "none: an estimate, not a claim",
        }[self.kind]()


def above(t: float) -> Rule:
    return Rule("above", low=t)


def below(t: float) -> Rule:
    return Rule("below", high=t)


def within(a: float, b: float) -> Rule:
    return Rule("within", low=a, high=b)


EVERY, REPORT = Rule("every"), Rule("report")


def every(verdicts: list[str]) -> str:
    """A claim that must hold on every task (an intersection-union test: no multiplicity
    correction is needed for `reproduced`)."""
    judged = [v for v in verdicts if v != NOT_EVALUATED]
    if not judged:
        return NOT_EVALUATED
    if CONTRADICTED in judged:
        return CONTRADICTED
    return REPRODUCED if len(judged) == len(verdicts) and all(v == REPRODUCED for v in judged) \
        else INCONCLUSIVE


# --- rows ---------------------------------------------------------------------------------

class NotEvaluated(Exception):
    """A row's inputs are missing; the message is the row's reason."""


@dataclass(frozen=True)
class Term:
    """One AUROC in a comparison: a run's predictions of a task on a split (or, with oracle,
    the synthetic hospital's true probabilities on the same examples)."""

    model: str
    recipe: str
    task: str
    split: str
    oracle: bool = False

    @property
    def label(self) -> str:
        return "oracle" if self.oracle else f"{self.model}/{self.recipe}"


def _row(claim: str, statistic: str, task: str, split: str, compared: str, rule: Rule,
         interval: Interval | None = None, verdict: str | None = None, reason: str = "") -> dict:
    i = interval
    return {"claim": claim, "statistic": statistic, "task": task, "split": split,
            "compared": compared, "estimate": i.estimate if i else None, "lo": i.lo if i else None,
            "hi": i.hi if i else None, "n": i.n if i else None,
            "n_patients": i.n_patients if i else None, "n_valid": i.n_valid if i else None,
            "verdict": verdict or (rule.judge(i.lo, i.hi) if i else NOT_EVALUATED),
            "rule": rule.text, "reason": reason}


def _summary(claim: str, statistic: str, split: str, compared: str, rows: list[dict]) -> dict:
    verdicts = [r["verdict"] for r in rows]
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in VERDICTS if v in verdicts)
    return _row(claim, statistic, ALL, split, compared, EVERY, verdict=every(verdicts),
                reason=f"tasks: {counts}" if rows else "no task rows")


def _mean_diff(pairs: list[tuple[int, int]]) -> Callable[[list[np.ndarray]], np.ndarray]:
    """Mean over pairs (i, j) of AUROC_i - AUROC_j."""
    return lambda a: np.mean([a[i] - a[j] for i, j in pairs], axis=0)


def _n_classes(df: pl.DataFrame) -> int:
    """K of a predictions frame (prob_0..prob_{K-1})."""
    return n_prob_columns(df.columns)


def _efficiency_size(recipe: str, task: str) -> int | None:
    m = re.fullmatch(rf"{re.escape(task)}-n(\d+)", recipe)
    return int(m.group(1)) if m else None


def _hint(recipe: str) -> str:
    """The config key that asks for runs of a recipe."""
    if recipe == "zeroshot":
        return "finetune.zeroshot_models"
    if recipe == "joint":
        return "finetune.joint_models"
    if re.search(r"-n\d+$", recipe):
        return "finetune.efficiency_models and efficiency_sizes"
    return "finetune.task_models and finetune.tasks"


class Claims:
    """Judges every claim from runs.csv, auroc.csv and a loader of joined predictions."""

    def __init__(self, runs: pl.DataFrame, auroc: pl.DataFrame, load: Loader, settings: ClaimSettings,
                 seed: int, tasks: list[str], progress: bool = False):
        self.runs, self.auroc, self.load, self.s, self.seed = runs, auroc, load, settings, seed
        self.tasks = list(tasks)
        self.run_keys = set(runs.select("model", "recipe").iter_rows())
        single = runs.filter(pl.col("kind").is_in(SINGLE_TASK_KINDS))
        # Tasks some model was finetuned on alone: claims b-f are about these.
        own = set(single["recipe"].to_list())
        self.own_tasks = [t for t in self.tasks if t in own] or self.tasks
        self.finetuned = sorted(set(single["model"].to_list()), key=self._model_order)
        self.zeroshot = sorted(set(runs.filter(pl.col("kind") == "zeroshot")["model"].to_list()),
                               key=self._model_order)
        self.bar = tqdm(desc="claims", unit="comparison", disable=not progress)

    def _model_order(self, model: str) -> tuple:
        return (model != self.s.model, model not in self.s.pretraining_order, model)

    # --- inputs ---

    def _missing(self, t: Term) -> str:
        if (t.model, t.recipe) not in self.run_keys:
            return f"no run {t.model}/{t.recipe} (asked for by {_hint(t.recipe)})"
        return f"run {t.model}/{t.recipe} has no {t.task}/{t.split} predictions"

    def _block(self, terms: list[Term]) -> Block:
        """Terms of one (task, split) on their common examples."""
        frames = []
        for t in terms:
            df = self.load(t.model, t.recipe, t.task, t.split)
            if df is None:
                raise NotEvaluated(self._missing(t))
            if t.oracle and "oracle_probs" not in df.columns:
                raise NotEvaluated("no oracle probabilities (the synthetic hospital only)")
            frames.append(df)
        keep = frames[0].select("example_id", "patient_id", "label")
        for t, df in zip(terms, frames):
            cols = df.filter(pl.col("oracle_probs").is_not_null()) if t.oracle else df
            keep = keep.join(cols.select("example_id", pl.col("label").alias("_label")),
                             on="example_id", how="inner", maintain_order="left")
            bad = keep.filter(pl.col("label") != pl.col("_label"))
            if len(bad):
                raise ValueError(f"{t.label} {t.task}/{t.split}: labels differ from "
                                 f"{terms[0].label}'s on {len(bad)} example(s)")
            keep = keep.drop("_label")
        if keep.is_empty():
            raise NotEvaluated(f"no common examples in {terms[0].task}/{terms[0].split}")
        self._check_classes(keep["label"].to_numpy(), _n_classes(frames[0]), terms[0])
        probs = []
        for t, df in zip(terms, frames):
            rows = keep.select("example_id").join(df, on="example_id", how="left", maintain_order="left")
            if t.oracle:
                probs.append(np.array(rows["oracle_probs"].to_list(), dtype=np.float64))
            else:
                probs.append(prob_matrix(rows, _n_classes(df)))
        patients = keep.select(patient_key()).to_series().to_numpy()
        return Block(keep["label"].to_numpy(), patients, probs)

    def _check_classes(self, labels: np.ndarray, k: int, t: Term) -> None:
        """Too few examples of a class make AUROC's bootstrap degenerate (one positive: every
        resample gives the same AUROC, or none): such a split is not evaluated."""
        counts = np.bincount(labels, minlength=k)
        m = self.s.min_class_examples
        if (counts > 0).sum() < 2:
            raise NotEvaluated(f"{t.task}/{t.split} holds one class only")
        enough = int((counts >= m).sum())
        if enough < 2:
            raise NotEvaluated(f"{t.task}/{t.split}: class counts {counts.tolist()}, fewer than two "
                               f"classes with {m} examples (claims.min_class_examples)")

    def interval(self, terms: list[Term], statistic: Callable[[list[np.ndarray]], np.ndarray],
                 *key: str) -> Interval:
        """Paired bootstrap interval of statistic(AUROC of each term, in term order).

        Raises NotEvaluated when a term's predictions are missing or its split is single-class."""
        groups: dict[tuple[str, str], list[int]] = {}
        for i, t in enumerate(terms):
            groups.setdefault((t.task, t.split), []).append(i)
        blocks, column = [], {}
        for idx in groups.values():
            blocks.append(self._block([terms[i] for i in idx]))
            column.update({i: len(column) + j for j, i in enumerate(idx)})
        stat = lambda a: statistic([a[:, column[i]] for i in range(len(terms))])
        s = self.s
        return paired_interval(blocks, stat, s.n_bootstrap, rng_for(self.seed, "claims", *key),
                               s.ci_level, s.cluster_by_patient, s.bootstrap_chunk_elements)

    def compare(self, claim: str, statistic: str, task: str, split: str, terms: list[Term],
                fn, rule: Rule) -> dict:
        """One row: the paired interval of fn over terms, judged by rule."""
        compared = ", ".join(dict.fromkeys(t.label for t in terms))
        self.bar.update()
        try:
            iv = self.interval(terms, fn, claim, statistic, task, split, compared)
        except NotEvaluated as e:
            return _row(claim, statistic, task, split, compared, rule, reason=str(e))
        reason = "" if iv.estimate is not None else "statistic undefined on the full sample"
        return _row(claim, statistic, task, split, compared, rule, iv, reason=reason)

    # --- the claims ---

    def zeroshot_near_chance(self) -> list[dict]:
        """(a) Every zero-shot model, every task: AUROC inside 0.5 +- margin, except the
        exceptions, whose AUROC lies above the band."""
        s, m = self.s, self.s.near_chance_margin
        band, exception = within(0.5 - m, 0.5 + m), above(0.5 + m)
        if not self.zeroshot:
            return [_row("a", "zero-shot AUROC", ALL, s.split, "", EVERY,
                         reason="no zero-shot runs (asked for by finetune.zeroshot_models)")]
        out = []
        for model in self.zeroshot:
            rows = []
            for task in self.tasks:
                exc = task in s.zeroshot_exceptions
                rule = exception if exc else band
                stat = "zero-shot AUROC" + (" (the exception: above chance)" if exc else "")
                rows.append(self._auroc_row("a", stat, Term(model, "zeroshot", task, s.split), rule))
            out += rows + [_summary("a", "near chance on every task but the exceptions", s.split,
                                    f"{model}/zeroshot", rows)]
        return out

    def _auroc_row(self, claim: str, statistic: str, t: Term, rule: Rule) -> dict:
        """A single AUROC with the evaluate stage's interval (auroc.csv, all patients)."""
        hit = self.auroc.filter((pl.col("model") == t.model) & (pl.col("recipe") == t.recipe)
                                & (pl.col("task") == t.task) & (pl.col("split") == t.split)
                                & (pl.col("subset") == "all"))
        if hit.is_empty():
            return _row(claim, statistic, t.task, t.split, t.label, rule, reason=self._missing(t))
        r = hit.row(0, named=True)
        df = self.load(t.model, t.recipe, t.task, t.split)
        try:
            if df is None:
                raise NotEvaluated(self._missing(t))
            self._check_classes(df["label"].to_numpy(), _n_classes(df), t)
            if r["auroc"] is None:
                raise NotEvaluated(f"auroc.csv has no AUROC of {t.label} on {t.task}/{t.split}")
        except NotEvaluated as e:
            return _row(claim, statistic, t.task, t.split, t.label, rule, reason=str(e))
        iv = Interval(r["auroc"], r["ci_low"], r["ci_high"], r["n"],
                      df.select(patient_key().n_unique()).item(), None)
        return _row(claim, statistic, t.task, t.split, t.label, rule, iv)

    def finetuned_beats_zeroshot(self) -> list[dict]:
        """(b) Finetuned on the task minus the best zero-shot model on it. The best is chosen
        again in every resample (the maximum over zero-shot models), so choosing it from the
        same data does not favour the finetuned model."""
        s, out = self.s, []
        if not self.zeroshot:
            return [_row("b", "finetuned − best zero-shot AUROC", ALL, s.split, "", above(0),
                         reason="no zero-shot runs (asked for by finetune.zeroshot_models)")]
        best = lambda a: a[0] - np.max(np.stack(a[1:]), axis=0)
        for model in self.finetuned:
            stat = f"{model} finetuned − best zero-shot AUROC"
            rows = [self.compare("b", stat, task, s.split,
                                 [Term(model, task, task, s.split)]
                                 + [Term(z, "zeroshot", task, s.split) for z in self.zeroshot],
                                 best, above(0)) for task in self.own_tasks]
            out += rows + [_summary("b", stat, s.split, f"{model} finetuned vs zero-shot", rows)]
        return out

    def pretraining_order(self) -> list[dict]:
        """(c) Each model of `pretraining_order` beats the next at the smallest data-efficiency
        size, and that gap is larger there than with all training data."""
        s, out = self.s, []
        sizes = {task: sorted({n for r in self.runs["recipe"].to_list()
                               if (n := _efficiency_size(r, task)) is not None})
                 for task in self.own_tasks}
        for a, b in zip(s.pretraining_order, s.pretraining_order[1:]):
            few_stat, gap_stat = f"{a} − {b} AUROC, fewest examples", f"gap {a} − {b}, fewest examples − all examples"
            few_rows, gap_rows = [], []
            for task in self.own_tasks:
                if not sizes[task]:
                    reason = (f"no data-efficiency runs of {task} "
                              "(asked for by finetune.efficiency_models and efficiency_sizes)")
                    few_rows.append(_row("c", few_stat, task, s.split, f"{a}, {b}", above(0), reason=reason))
                    gap_rows.append(_row("c", gap_stat, task, s.split, f"{a}, {b}", above(0), reason=reason))
                    continue
                few = f"{task}-n{sizes[task][0]}"
                ta, tb = Term(a, few, task, s.split), Term(b, few, task, s.split)
                fa, fb = Term(a, task, task, s.split), Term(b, task, task, s.split)
                few_rows.append(self.compare("c", few_stat, task, s.split, [ta, tb],
                                             lambda x: x[0] - x[1], above(0)))
                gap_rows.append(self.compare("c", gap_stat, task, s.split, [ta, tb, fa, fb],
                                             lambda x: (x[0] - x[1]) - (x[2] - x[3]), above(0)))
            out += few_rows + [_summary("c", few_stat, s.split, f"{a}, {b}", few_rows)]
            out += gap_rows + [_summary("c", gap_stat, s.split, f"{a}, {b}", gap_rows)]
        return out

    def _per_task_then_mean(self, claim: str, stat: str, task_terms: dict[str, list[Term]],
                            pairs_of: Callable[[list[Term]], list[tuple[int, int]]],
                            rule: Rule) -> list[dict]:
        """Rows per task (mean of the task's pair differences), then the mean over every pair
        of the evaluable tasks, resampled together (tasks share patients)."""
        s, rows, terms, pairs = self.s, [], [], []
        for task, ts in task_terms.items():
            if not ts:
                rows.append(_row(claim, stat, task, s.split, "", rule,
                                 reason="no runs to compare on this task"))
                continue
            row = self.compare(claim, stat, task, s.split, ts, _mean_diff(pairs_of(ts)), rule)
            rows.append(row)
            if row["verdict"] != NOT_EVALUATED:
                pairs += [(i + len(terms), j + len(terms)) for i, j in pairs_of(ts)]
                terms += ts
        judged = [r["task"] for r in rows if r["verdict"] != NOT_EVALUATED]
        if not pairs:
            labels = [r["compared"] for r in rows if r["compared"]]
            summary = _row(claim, f"{stat}, mean over tasks", ALL, s.split,
                           ", ".join(dict.fromkeys(", ".join(labels).split(", "))) if labels else "",
                           rule, reason="no task could be evaluated")
        else:
            summary = self.compare(claim, f"{stat}, mean over tasks", ALL, s.split, terms,
                                   _mean_diff(pairs), rule)
            summary["reason"] = (f"mean over {len(judged)} of {len(rows)} tasks: " + ", ".join(judged)
                                 + (f"; {summary['reason']}" if summary["reason"] else ""))
        return rows + [summary]

    def joint_and_transfer(self) -> list[dict]:
        """(d) Joint multi-task minus single-task finetuning, per task and on average
        (non-inferiority); then cross-task transfer: a model finetuned on another task minus
        the same base model zero-shot, per task and on average."""
        s, m, d = self.s, self.s.model, self.s.noninferiority_margin
        joint = {t: [Term(m, "joint", t, s.split), Term(m, t, t, s.split)] for t in self.own_tasks}
        out = self._per_task_then_mean("d", f"{m} joint − single-task AUROC", joint,
                                       lambda ts: [(0, 1)], above(-d))
        sources = [t for t in self.own_tasks if (m, t) in self.run_keys]
        transfer = {t: [Term(m, src, t, s.split) for src in sources if src != t] for t in self.tasks}
        transfer = {t: ts + [Term(m, "zeroshot", t, s.split)] if ts else [] for t, ts in transfer.items()}
        out += self._per_task_then_mean("d", f"{m} finetuned on another task − zero-shot AUROC",
                                        transfer, lambda ts: [(i, len(ts) - 1) for i in range(len(ts) - 1)],
                                        above(0))
        return out

    def later_periods(self) -> list[dict]:
        """(e) Each later test period minus the in-period test, same finetuned model."""
        s, m, out = self.s, self.s.model, []
        first, later = s.periods[0], s.periods[1:]
        for period in later:
            stat = f"{m} finetuned AUROC, {period} − {first}"
            rows = [self.compare("e", stat, task, period,
                                 [Term(m, task, task, period), Term(m, task, task, first)],
                                 lambda x: x[0] - x[1], below(s.noninferiority_margin))
                    for task in self.own_tasks]
            out += rows + [_summary("e", stat, period, f"{m} finetuned", rows)]
        return out

    def external_site(self) -> list[dict]:
        """(f) The held-out site minus the internal test, same finetuned model
        (non-inferiority)."""
        s, m = self.s, self.s.model
        stat = f"{m} finetuned AUROC, external − {s.internal_split}"
        rows = [self.compare("f", stat, task, "external",
                             [Term(m, task, task, "external"), Term(m, task, task, s.internal_split)],
                             lambda x: x[0] - x[1], above(-s.noninferiority_margin))
                for task in self.own_tasks]
        return rows + [_summary("f", stat, "external", f"{m} finetuned", rows)]

    def oracle_share(self) -> list[dict]:
        """Share of the oracle's AUROC above chance, (AUROC - 0.5) / (oracle - 0.5), of every
        model finetuned on the task, on the examples the oracle covers."""
        s, out = self.s, []
        for model in self.finetuned:
            for task in self.own_tasks:
                t = Term(model, task, task, s.split)
                out.append(self.compare("oracle", "(AUROC − 0.5) / (oracle AUROC − 0.5)", task,
                                        s.split, [t, Term(model, task, task, s.split, oracle=True)],
                                        lambda x: (x[0] - 0.5) / (x[1] - 0.5), REPORT))
        return out

    def table(self) -> pl.DataFrame:
        rows = []
        for part in (self.zeroshot_near_chance, self.finetuned_beats_zeroshot, self.pretraining_order,
                     self.joint_and_transfer, self.later_periods, self.external_site,
                     self.oracle_share):
            got = part()
            log.info("claim %s: %s", got[0]["claim"] if got else part.__name__,
                     ", ".join(f"{v} {sum(r['verdict'] == v for r in got)}" for v in VERDICTS
                               if any(r["verdict"] == v for r in got)))
            rows += got
        self.bar.close()
        method = self.s.ci_method
        return table_frame("claims", [{**r, "ci_method": method, "n_bootstrap": self.s.n_bootstrap}
                                      for r in rows])


def claims_table(runs: pl.DataFrame, auroc: pl.DataFrame, load: Loader, settings: ClaimSettings,
                 seed: int, tasks: list[str], progress: bool = False) -> pl.DataFrame:
    """Every claim's rows (schema `claims` in tables.py)."""
    return Claims(runs, auroc, load, settings, seed, tasks, progress).table()
