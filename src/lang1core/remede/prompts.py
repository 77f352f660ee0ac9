"""The multiple-choice prompt (study, Appendix H): the note, the question, lettered options,
then "Answer:". A model's probability per option is the softmax over the letters' logits."""

from __future__ import annotations

from collections.abc import Sequence

LETTERS = "ABCDEFGHIJ"


def format_options(options: Sequence[str]) -> str:
    if len(options) > len(LETTERS):
        raise ValueError(f"at most {len(LETTERS)} options are supported, got {len(options)}")
    return "\n".join(f"{LETTERS[i]}. {text}" for i, text in enumerate(options))


def format_prompt(text: str, question: str, options: Sequence[str]) -> str:
    """Prompt ending in 'Answer:'; the answer token is ' A', ' B', ..."""
    return f"{text}\nQuestion: {question}\n{format_options(options)}\nAnswer:"
