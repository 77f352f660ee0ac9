"""Corpus-stage throughput on the same generated notes:

1. cleaning MB/s: lang1's polars cleaning (`clean_notes`, parquet in -> parquet out, all rules
   and counts) against a straightforward pandas implementation of the same rules (parquet in ->
   parquet out; goal >= 5x faster);
2. tokenize-and-shard tokens/s (`write_shards`: parquet -> encoded uint16 shards + index)
   against raw SentencePiece batch encoding of the same texts (goal >= 0.8 of raw);
3. ShardLoader tokens/s per process (goal >= 5M).

    python bench/corpus.py [--mb 50] [--threads 2] [--seq-len 2048] [--batch 8]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import tempfile
import time
from pathlib import Path

import polars as pl

from lang1core.corpus import text as T
from lang1core.corpus.clean import clean_notes
from lang1core.corpus.mix import MIX_COLUMNS
from lang1core.corpus.shards import write_shards
from lang1core.corpus.tokenizer import sample_lines, train_tokenizer
from lang1core.data import ShardLoader

TEMPLATES = [
    "ADMISSION HISTORY AND PHYSICAL\n\nHPI: {age}-year-old {sex} with {dx} presenting with {sym}.  Pt\u2019s "
    "symptoms began {n} days ago.\r\nPMH: {dx2}; {dx3}.\n\n\n\nExam: T 38.{n}\u00b0C, HR {hr}, BP {sbp}/{dbp} "
    "\u2013 {sym2}.\nA/P: {dx} \u2014 start {med}, monitor on telemetry\u2026\n==========\n",
    "Progress note, hospital day {n}. S: feels {feel} . O: HR {hr}, BP {sbp}/{dbp}. A/P: {dx}. "
    "Continue {med}  as tolerated.\t Monitor.",
    "DISCHARGE SUMMARY\nDates: admitted {n} days ago.\nDiagnosis: {dx}.\nHospital course: treated with {med}; "
    "{sym2} resolved!!!\nDisposition: home.\nFollow-up: clinic in {n} weeks.",
    "Nursing: pt resting, {feel}.", "<NA>", "   ", "\u60a3\u8005\u306f\u5143\u6c17\u3067\u3059",
]
WORDS = dict(
    sex=["man", "woman"], dx=["community-acquired pneumonia", "CHF exacerbation", "COPD exacerbation", "sepsis",
                              "acute kidney injury", "cellulitis", "GI bleed"],
    sym=["shortness of breath", "fever and cough", "chest pain", "abdominal pain"],
    sym2=["no acute distress", "mild wheeze", "trace edema", "clear lungs"],
    med=["ceftriaxone", "furosemide", "albuterol", "vancomycin", "pantoprazole"],
    feel=["less short of breath", "tired", "better", "unchanged"],
)


def generate_notes(target_mb: float, seed: int = 0) -> pl.DataFrame:
    rng = random.Random(seed)
    texts, size = [], 0
    while size < target_mb * 1e6:
        t = rng.choices(TEMPLATES, weights=[30, 50, 15, 2, 1, 1, 1])[0]
        s = t.format(age=rng.randint(18, 95), n=rng.randint(1, 9), hr=rng.randint(50, 130),
                     sbp=rng.randint(90, 180), dbp=rng.randint(50, 100), dx2=rng.choice(WORDS["dx"]),
                     dx3=rng.choice(WORDS["dx"]), **{k: rng.choice(v) for k, v in WORDS.items()})
        if rng.random() < 0.3:  # longer notes, as real ones are
            vocab = WORDS["dx"] + WORDS["sym"] + WORDS["med"]
            s += "\n" + " ".join(rng.choice(vocab) for _ in range(rng.randint(20, 200)))
        texts.append(s)
        size += len(s.encode())
    n = len(texts)
    return pl.DataFrame({
        "note_id": [f"N{i:09d}" for i in range(n)], "patient_id": [f"P{i % 5000}" for i in range(n)],
        "encounter_id": [f"E{i % 20000}" for i in range(n)],
        "note_type": [rng.choice(["progress", "nursing", "history_and_physical", "discharge_summary"])
                      for _ in range(n)],
        "note_time": pl.datetime_range(pl.datetime(2010, 1, 1), pl.datetime(2023, 1, 1), interval="1h", eager=True)
        .sample(n, with_replacement=True, seed=seed).sort(),
        "site": "site_a", "department": "medicine", "region": "north", "n_parts": 1, "text": texts,
    })


# --- the straightforward pandas implementation of the same rules ----------------------------
def pandas_clean(notes_path: Path, out_path: Path, min_words: int = 10) -> dict:
    import pandas as pd

    df = pd.read_parquet(notes_path)
    raw = df["text"]
    t = raw.fillna("")
    t = t.str.replace("\r\n", "\n", regex=False)
    for k, v in T.PUNCTUATION_MAP.items():
        t = t.str.replace(k, v, regex=False)
    t = t.str.replace(T.CONTROL, "", regex=True).str.replace(T.NON_ASCII, "", regex=True)
    for c in T.RUN_CHARS:
        t = t.str.replace(re.escape(c) + "{4,}", c * 3, regex=True)
    t = (t.str.replace(r"\.{4,}", "...", regex=True).str.replace(r"!{2,}", "!", regex=True)
         .str.replace(r"\?{2,}", "?", regex=True).str.replace(r" {2,}", " ", regex=True)
         .str.replace(r" ?\n ?", "\n", regex=True).str.replace(r"\n{3,}", "\n\n", regex=True)
         .str.replace(r" ([,;:!?])", r"\1", regex=True).str.strip())
    words = t.str.count(r"\S+")
    placeholder = (t.apply(lambda s: any(p in s for p in T.DEFAULT_PLACEHOLDERS))
                   | t.str.lower().isin(T.PLACEHOLDER_WORDS))
    blank_raw = raw.isna() | (raw.fillna("").str.strip() == "")
    blank = t == ""
    reason = pd.Series([None] * len(df), dtype=object)
    reason[words < min_words] = T.TOO_SHORT
    reason[blank] = T.EMPTY_AFTER_CLEANING
    reason[blank & raw.fillna("").str.contains(T.NON_ASCII, regex=True)] = T.NON_ASCII_ONLY
    reason[placeholder] = T.PLACEHOLDER
    reason[blank_raw] = T.EMPTY
    digest = t.apply(lambda s: hashlib.sha1(s.encode()).hexdigest())
    dup = digest.duplicated() & reason.isna()
    # a later copy of a text whose first copy was dropped for another reason is not a duplicate
    first_kept = digest[reason.isna()].duplicated()
    reason[first_kept[first_kept].index] = T.DUPLICATE
    del dup
    df["text"], df["n_words"] = t, words
    df[reason.isna().values].to_parquet(out_path)
    return reason.value_counts(dropna=False).to_dict()


CPU = {}


def timed(fn, *a, **k):
    """Wall seconds and result; CPU seconds of this process (all threads) go to CPU[fn name].
    On a shared machine wall time includes waiting for a core, so both are reported."""
    t, c = time.perf_counter(), time.process_time()
    out = fn(*a, **k)
    CPU[fn.__name__] = time.process_time() - c
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=50.0, help="MB of generated note text")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--seq-len", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        notes = generate_notes(args.mb)
        notes.write_parquet(tmp / "notes.parquet")
        mb = notes["text"].str.len_bytes().sum() / 1e6
        print(f"generated {notes.height:,} notes, {mb:.1f} MB of text; {args.threads} threads, "
              f"{os.cpu_count()} CPUs, polars {pl.__version__}")

        t_lang1, stats = timed(clean_notes, tmp / "notes.parquet", tmp / "clean.parquet")
        t_pd, pd_counts = timed(pandas_clean, tmp / "notes.parquet", tmp / "clean_pd.parquet")
        kept_pd = pl.read_parquet(tmp / "clean_pd.parquet")
        kept = pl.read_parquet(tmp / "clean.parquet")
        agree = kept_pd.height == kept.height and kept_pd["text"].to_list() == kept["text"].to_list()
        c_lang1, c_pd = CPU["clean_notes"], CPU["pandas_clean"]
        print(f"[clean] lang1 (polars): {mb / t_lang1:8.1f} MB/s wall ({t_lang1:.2f} s), "
              f"{mb / c_lang1:.1f} MB per CPU-s")
        print(f"[clean] pandas        : {mb / t_pd:8.1f} MB/s wall ({t_pd:.2f} s), {mb / c_pd:.1f} MB per CPU-s")
        print(f"[clean] speed-up {t_pd / t_lang1:.1f}x wall, {c_pd / c_lang1:.1f}x CPU (goal >= 5x); "
              f"same kept notes and text: {agree}; "
              f"kept {stats['kept_notes']:,} of {stats['input_notes']:,}")

        docs = (kept.rename({"note_id": "doc_id"}).with_columns(pl.lit("clinical").alias("source"))
                .select([pl.col(c).cast(d) for c, d in MIX_COLUMNS.items()]))
        docs.write_parquet(tmp / "train.parquet")
        docs.head(100).write_parquet(tmp / "val.parquet")
        lines = sample_lines(tmp / "train.parquet", {"clinical": 1}, 5_000_000, seed=0)
        t_tok, _ = timed(train_tokenizer, lines, tmp / "spm.model", args.vocab, threads=args.threads)
        print(f"[tokenizer] BPE {args.vocab} trained on 5M chars in {t_tok:.1f} s")

        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(tmp / "spm.model"))
        texts = docs["text"].to_list()
        def encode(texts):
            return sp.encode(texts, num_threads=args.threads)

        t_raw, ids = timed(encode, texts)
        n_tok = sum(map(len, ids)) + len(ids)
        del ids
        t_shard, index = timed(write_shards, {"train": tmp / "train.parquet", "val": tmp / "val.parquet"},
                               tmp / "spm.model", tmp / "shards", {"clinical": 1}, threads=args.threads,
                               batch_docs=2048)
        n_shard = index["splits"]["train"]["tokens"] + index["splits"]["val"]["tokens"]
        c_raw, c_shard = CPU["encode"], CPU["write_shards"]
        print(f"[shards] raw spm encode     : {n_tok / t_raw / 1e6:6.2f} M tokens/s wall, "
              f"{n_tok / c_raw / 1e6:.2f} M per CPU-s")
        print(f"[shards] tokenize-and-shard : {n_shard / t_shard / 1e6:6.2f} M tokens/s wall, "
              f"{n_shard / c_shard / 1e6:.2f} M per CPU-s (ratio {n_shard / t_shard / (n_tok / t_raw):.2f} wall, "
              f"{(n_shard / c_shard) / (n_tok / c_raw):.2f} CPU; goal >= 0.8)")

        loader = ShardLoader(tmp / "shards", args.seq_len, args.batch, seed=0, pin_memory=False)
        for _ in range(20):
            next(loader)
        t, c = time.perf_counter(), time.process_time()
        for _ in range(args.steps):
            next(loader)
        dt, dc = time.perf_counter() - t, time.process_time() - c
        n = args.steps * loader.tokens_per_batch
        print(f"[loader] seq {args.seq_len} x batch {args.batch}: {n / dt / 1e6:.1f} M tokens/s wall, "
              f"{n / dc / 1e6:.1f} M per CPU-s, one process (goal >= 5M)")


if __name__ == "__main__":
    main()
