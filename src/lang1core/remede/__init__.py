"""ReMedE: the five hospital-operations tasks as multiple-choice questions about one note."""

from lang1core.remede.prompts import LETTERS, format_prompt
from lang1core.remede.tasks import SPLITS, TASKS, TEST_SPLITS, Task

__all__ = ["LETTERS", "SPLITS", "TASKS", "TEST_SPLITS", "Task", "format_prompt"]
