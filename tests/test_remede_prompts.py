"""Task definitions and the prompt format the scorer and lm-eval files share."""

import pytest

from lang1core.remede import TASKS, format_prompt
from lang1core.remede.tasks import los_options


def test_prompt_ends_with_answer_and_letters_options():
    t = TASKS["readmission"]
    p = format_prompt("Patient discharged home.", t.question, t.options)
    assert p.startswith("Patient discharged home.\nQuestion: ")
    assert p.endswith("\nA. no\nB. yes\nAnswer:")


def test_cci_option_d_says_five_to_seven():
    assert TASKS["cci"].options[3] == "score 5 to 7"


def test_los_options_follow_the_edges():
    assert los_options((2, 3, 5)) == ("0 to 2 days", "3 days", "4 to 5 days", "more than 5 days")


def test_too_many_options_is_an_error():
    with pytest.raises(ValueError, match="at most"):
        format_prompt("x", "q", [str(i) for i in range(11)])
