"""Whether a metric row can be read: the one place that decides every row's `status`.

Each AUROC row (metrics JSON, every table under tables/, every figure cell) carries one of
these texts. They are written for readers: a figure draws a non-ok cell as a labelled gap
with the text itself, so a broken or under-powered result never looks like a bar at 0.
"""

from __future__ import annotations

from collections.abc import Sequence

OK = "ok"
NO_EXAMPLES = "no examples"
SINGLE_CLASS = "single class"
NOT_RUN = "not run"  # figures only: no row at all (the run or split was not produced)
DEFAULT_MIN_POSITIVES = 5


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def auroc_status(class_counts: Sequence[int], min_positives: int = DEFAULT_MIN_POSITIVES) -> str:
    """Status of an AUROC over examples with these label counts (index = class).

    Binary: both the positives and the negatives must number at least `min_positives`
    ("1 positive", "3 negatives" otherwise). Multi-class (macro one-vs-rest over the classes
    present): at least two classes must have `min_positives` examples, else the status names
    the second-largest class's count ("2 positives"). A rare class (the study's CCI > 7 holds
    0.2% of stays) stays in the average; its noise shows in the bootstrap interval rather than
    making the whole task unreadable.
    """
    counts = [int(c) for c in class_counts]
    present = [c for c in counts if c > 0]
    if not present:
        return NO_EXAMPLES
    if len(present) < 2:
        return SINGLE_CLASS
    if len(counts) == 2:
        for n, noun in ((counts[1], "positive"), (counts[0], "negative")):
            if n < min_positives:
                return plural(n, noun)
        return OK
    second = sorted(present)[-2]
    return OK if second >= min_positives else plural(second, "positive")
