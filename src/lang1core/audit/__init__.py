"""Memorisation and identifier audit of a trained model, and its model card.

- `canaries`: seeded synthetic secrets inserted into a pretraining mix, and their exposure;
- `lm`: per-note loss, continuation log-likelihoods and greedy/sampled generation;
- `extraction`, `membership`, `identifiers`: the three tests on training vs held-out notes;
- `notes`: the matched train/held-out note sample the tests read;
- `run`: one model's audit with its verdict (`lang1 audit MODEL`); `figure`, `card`.
"""
