"""Finetuning and multiple-choice scoring of ReMedE tasks.

Modules: `tokens` (SentencePiece wrapper and answer-letter ids), `scoring` (prompt building,
letter-logit probabilities, question-answer perplexity), `loop` (finetuning with early
stopping), `search` (Optuna learning-rate search), `lora` (low-rank adapters), `tfidf`
(the classic baseline), `models` (base models: ours, imported HF, from scratch), `runs`
(the workflow's runs: read ReMedE parquet, write predictions and run.json), `cli`
(`lang1 score`).
"""
