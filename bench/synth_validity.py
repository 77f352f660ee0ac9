"""Does the synthetic hospital make language matter? Its targets, measured on one hospital.

    python bench/synth_validity.py --n-patients 100000 [--seed 3407] [--out DIR]
    python bench/synth_validity.py --n-patients 5000          # quick look

Generates the hospital (every note type), validates the export and builds the ReMedE tasks in
DIR (reused when DIR already holds one made with the same settings and generator code), then
prints one Markdown table per measure, each row with its target and PASS/FAIL, and writes them
all to DIR/synth_validity.json:

1. class ratios of the whole task data (every split; LOS with the study's bins 0-2, 3, 4-5, >5
   days, which are also the oracle's);
2. the oracle's AUROC on temporal_2024;
3. headroom: TF-IDF + logistic regression (lang1core.finetune.tfidf) on 1,000 training
   examples and on the whole train split, and its gap to the oracle;
4. mechanisms: (a) surface forms replaced by their concepts (lang1core.synth.lexicon),
   (b) the oracle with negation and experiencer cues dropped (lang1core.synth.oracle.
   ablated_oracle), (c) the held-out site (`external`) against the in-site test split;
5. text: word types per 100,000 task notes, number-masked duplicate share per note type,
   section-structure variants, median H&P words (lang1core.synth.measures);
6. drift: temporal_2024 against the in-period test split, and the tokens whose frequency
   moves most between pre-2018, 2018-2023 and 2024.

AUROC is evaluation's (lang1core.evaluate.metrics.auroc_block: binary on prob_1, macro
one-vs-rest over the classes present otherwise). Where a measure subsamples, the output says so.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
from tqdm import tqdm

TASK_ORDER = ("readmission", "mortality", "los", "cci", "denial")
EVAL_SPLIT = "temporal_2024"
HELD_OUT_SITE = "site_d"
SMALL_TRAIN = 1000
VAL_CAP = 2000  # validation examples used to pick TF-IDF's C (stratified sample)
# "Whole train split" fits use at most this many examples (stratified; --max-train), which
# bounds the run's time at 100,000 patients (~21,000 per H&P task there today; a 4- or 5-class
# fit on 20,000 notes takes a few minutes on 2 cores).
WHOLE_TRAIN_CAP = 20_000
WORDS_PER = 100_000
PERIODS = ("pre-2018", "2018-2023", "2024")
NOTE_BATCH = 2000

# Class shares (%) of the whole task data: (task, class, low, high).
RATIO_TARGETS = (("readmission", 1, "readmitted", 10.8, 11.3), ("mortality", 1, "died", 1.8, 1.9),
                 ("los", 0, "0-2 days", 41.0, 46.0), ("cci", 0, "CCI 0", 68.0, 69.0),
                 ("cci", 4, "CCI > 7", 0.0, 0.2), ("denial", 1, "denied", 12.0, 14.0))
ORACLE_TARGETS = {"readmission": (0.74, 0.80), "mortality": (0.92, 0.97), "los": (0.70, 0.80),
                  "cci": (0.80, 0.92), "denial": (0.72, 0.85)}
HEADROOM = {"1000": (0.08, 4), "whole": (0.04, 4)}  # oracle - TF-IDF >= gap on >= k of 5 tasks
LEXICON_GAIN = 0.03
MIN_WORD_TYPES = 15_000
MAX_DUPLICATE_SHARE = 0.02
MIN_SECTION_VARIANTS = 50
SECTION_TYPES = ("history_and_physical", "discharge_summary")
MIN_MEDIAN_HP_WORDS = 500
DRIFT_MIN_TASKS = 3

log = logging.getLogger("synth_validity")


# --- the hospital --------------------------------------------------------------------------------

def synth_code_hash() -> str:
    """Hash of the generator's source, so a changed generator is never mistaken for a cached one."""
    import lang1core.synth as synth
    from lang1core.provenance import config_hash, file_hash

    root = Path(synth.__file__).parent
    # measures.py reads a hospital rather than making one.
    return config_hash({p.name: file_hash(p) for p in sorted(root.glob("*.py")) if p.name != "measures.py"})


def prepare(out: Path, cfg, seed: int) -> dict:
    """Generate, validate and build into `out` unless it already holds the same hospital.
    Returns the ReMedE manifest."""
    from lang1core.export import validate_export
    from lang1core.remede.build import build_remede
    from lang1core.remede.config import BuildConfig
    from lang1core.remede.tasks import STUDY_LOS_EDGES
    from lang1core.synth import generate

    settings = {"n_patients": cfg.n_patients, "seed": cfg.seed, "chunk_size": cfg.chunk_size,
                "synth_code": synth_code_hash(), "los_edges": list(STUDY_LOS_EDGES), "held_out_site": HELD_OUT_SITE}
    stamp = out / "settings.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == settings and (out / "remede" / "manifest.json").is_file():
        log.info("reusing the hospital in %s", out)
        return json.loads((out / "remede" / "manifest.json").read_text())
    stamp.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    with tqdm(total=3, desc="hospital", file=sys.stderr) as bar:
        bar.set_postfix_str("generate")
        generate(cfg, out / "export", out / "oracle" / "oracle.parquet", progress=False, workers=2)
        bar.update()
        bar.set_postfix_str("validate")
        validate_export(out / "export", out / "validated")
        bar.update()
        bar.set_postfix_str("ReMedE build")
        # The study's LOS bins: the class-ratio target is stated in them and the oracle predicts them.
        bcfg = BuildConfig.from_dict({"los": {"edges": list(STUDY_LOS_EDGES)}}, seed=seed,
                                     held_out_site=HELD_OUT_SITE)
        manifest = build_remede(out / "validated", out / "remede", bcfg)
        bar.update()
    stamp.write_text(json.dumps(settings, indent=2))
    return manifest


# --- scoring -------------------------------------------------------------------------------------

def score(probs: np.ndarray, labels: np.ndarray) -> float | None:
    """AUROC as evaluation computes it (no interval)."""
    from lang1core.evaluate.metrics import EvalSettings, auroc_block

    return auroc_block(np.asarray(probs, np.float64), np.asarray(labels, np.int64), None,
                       EvalSettings(n_bootstrap=0), np.random.default_rng(0))["auroc"]


def encounter_ids(data) -> list[str]:
    """Encounter id of each example (example_id is '<task>:<encounter_id>', remede/build.py)."""
    return [e.split(":", 1)[1] for e in data.example_ids]


def oracle_auroc(oracle: pl.DataFrame, task: str, data) -> tuple[float | None, int]:
    """The oracle's AUROC on a split's examples (their ReMedE labels), and how many examples it
    lacks (scored on the covered ones, as evaluation does)."""
    from lang1core.evaluate.run import oracle_for_task

    # In the task's classes (LOS: the oracle's days mapped to the manifest's bins), as evaluation does.
    o = oracle_for_task(oracle, task, REMEDE_DIR[0] / task / "test.parquet").rename({"oracle_probs": "probs"})
    df = pl.DataFrame({"encounter_id": encounter_ids(data), "label": data.labels}).join(
        o, on="encounter_id", how="left", maintain_order="left")
    have = df.filter(pl.col("probs").is_not_null())
    if not have.height:
        return None, df.height
    probs = np.array(have["probs"].to_list(), dtype=np.float64)
    if probs.shape[1] != len(data.options):
        raise ValueError(f"oracle {task}: {probs.shape[1]} probabilities per row, but the task has "
                         f"{len(data.options)} options {data.options}")
    return score(probs, have["label"].to_numpy()), df.height - have.height


REMEDE_DIR: list[Path] = []  # the ReMedE folder being measured (its manifest holds the LOS bins)


class Tasks:
    """ReMedE splits, read once each."""

    def __init__(self, remede: Path):
        self.remede, self.cache = remede, {}
        REMEDE_DIR[:] = [remede]

    def __call__(self, task: str, split: str):
        from lang1core.finetune.data import read_task

        if (task, split) not in self.cache:
            self.cache[task, split] = read_task(self.remede / task / f"{split}.parquet", task)
        return self.cache[task, split]

    def forget(self, *splits: str) -> None:
        """Free splits no later measure reads (the train splits hold most of the text)."""
        self.cache = {k: v for k, v in self.cache.items() if k[1] not in splits}


def tfidf_fit(tasks: Tasks, task: str, n_train: int | None, seed: int, transform=None):
    """TF-IDF + logistic regression as the finetune stage's baseline; `transform` rewrites
    every text (train, validation and later the scored split) first."""
    from lang1core.finetune.tfidf import TfidfBaseline

    train = tasks(task, "train").sample(n_train, seed)
    val = tasks(task, "val").sample(VAL_CAP, seed)
    if transform is not None:
        train, val = rewrite(train, transform), rewrite(val, transform)
    return TfidfBaseline(seed=seed).fit(train, val)


def rewrite(data, transform):
    from dataclasses import replace

    return replace(data, texts=[transform(t) for t in data.texts])


# --- report --------------------------------------------------------------------------------------

def fmt(v, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


class Report:
    def __init__(self):
        self.sections: dict[str, dict] = {}
        self.verdicts = {"PASS": 0, "FAIL": 0}

    def section(self, name: str, columns: list[str], rows: list[list], notes: list[str] = (), extra=None) -> None:
        self.sections[name] = {"columns": columns, "rows": rows, "notes": list(notes), **(extra or {})}
        for r in rows:
            if r and r[-1] in self.verdicts:
                self.verdicts[r[-1]] += 1
        lines = [f"\n### {name}\n", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(fmt(c) for c in r) + " |" for r in rows]
        lines += [f"\n{n}" for n in notes]
        print("\n".join(lines), flush=True)


# --- the measures --------------------------------------------------------------------------------

def class_ratios(rep: Report, manifest: dict) -> None:
    rows = []
    for task, cls, name, lo, hi in RATIO_TARGETS:
        counts = np.sum([c["classes"] for c in manifest["tasks"][task]["splits"].values()], axis=0)
        share = 100 * counts[cls] / counts.sum() if counts.sum() else None
        ok = None if share is None else lo <= share <= hi
        rows.append([task, name, share, int(counts.sum()), f"{lo:g}-{hi:g}%" if lo else f"<= {hi:g}%", verdict(ok)])
    rep.section("1. Class ratios (whole task data, %)", ["task", "class", "share %", "examples", "target", "result"],
                rows)


def oracle_table(rep: Report, tasks: Tasks, oracle: pl.DataFrame) -> dict:
    rows, aurocs = [], {}
    for task in TASK_ORDER:
        data = tasks(task, EVAL_SPLIT)
        a, missing = oracle_auroc(oracle, task, data)
        aurocs[task] = a
        lo, hi = ORACLE_TARGETS[task]
        rows.append([task, len(data), a, missing, f"{lo:g}-{hi:g}", verdict(None if a is None else lo <= a <= hi)])
    rep.section(f"2. Oracle AUROC on {EVAL_SPLIT}", ["task", "examples", "oracle AUROC", "not in oracle", "target",
                                                    "result"], rows)
    return aurocs


def headroom(rep: Report, tasks: Tasks, oracle_auc: dict, seed: int, max_train: int) -> dict:
    """TF-IDF at 1,000 and on the whole train split; returns the AUROCs and the whole-split
    models (the site and drift measures score them on other splits)."""
    models, aurocs = {}, {"1000": {}, "whole": {}}
    for task in tqdm(TASK_ORDER, desc="TF-IDF (1,000 and whole train)", file=sys.stderr):
        ev = tasks(task, EVAL_SPLIT)
        for size, n in (("1000", SMALL_TRAIN), ("whole", max_train)):
            m = tfidf_fit(tasks, task, n, seed)
            aurocs[size][task] = score(m.predict(ev), ev.labels)
            if size == "whole":
                models[task] = m
    rows, verdicts = [], {}
    for size, (gap_min, k_min) in HEADROOM.items():
        hits = 0
        for task in TASK_ORDER:
            o, t = oracle_auc[task], aurocs[size][task]
            gap = None if o is None or t is None else o - t
            has_gap = gap is not None and gap >= gap_min
            hits += has_gap
            n = min(SMALL_TRAIN if size == "1000" else max_train, len(tasks(task, "train")))
            rows.append([size, task, n, t, o, gap, f">= {gap_min:g}", "yes" if has_gap else "no"])
        verdicts[size] = hits >= k_min
        rows.append([size, f"tasks with the gap: {hits} of {len(TASK_ORDER)}", "", "", "", "", f">= {k_min}",
                     verdict(verdicts[size])])
    rep.section(f"3. Headroom: TF-IDF + LR vs oracle on {EVAL_SPLIT}",
                ["train", "task", "train examples", "TF-IDF AUROC", "oracle AUROC", "gap", "target", "result"], rows,
                [f"C picked on a stratified sample of at most {VAL_CAP:,} validation examples; 'whole' is the "
                 f"train split, subsampled (stratified) to {max_train:,} where larger."])
    return {"models": models, "aurocs": aurocs}


def lexicon_ablation(rep: Report, tasks: Tasks, raw_1000: dict, seed: int) -> None:
    name = "4a. Surface forms: TF-IDF (1,000) on concept-normalised text vs raw"
    from lang1core.synth.lexicon import lexicon

    lex = lexicon()
    rows, gains = [], []
    for task in tqdm(TASK_ORDER, desc="TF-IDF on normalised text", file=sys.stderr):
        ev = tasks(task, EVAL_SPLIT)
        m = tfidf_fit(tasks, task, SMALL_TRAIN, seed, transform=lex.normalize)
        a = score(m.predict(rewrite(ev, lex.normalize)), ev.labels)
        gain = None if a is None or raw_1000[task] is None else a - raw_1000[task]
        if gain is not None:
            gains.append(gain)
        rows.append([task, raw_1000[task], a, gain, "", ""])
    mean = float(np.mean(gains)) if gains else None
    rows.append(["mean", "", "", mean, f">= {LEXICON_GAIN:g}", verdict(None if mean is None else mean >= LEXICON_GAIN)])
    rep.section(name, ["task", "raw AUROC", "normalised AUROC", "gain", "target", "result"], rows)


def cue_ablation(rep: Report, tasks: Tasks, oracle: pl.DataFrame, oracle_auc: dict, cfg) -> None:
    name = f"4b. Context cues: oracle without negation/experiencer cues on {EVAL_SPLIT}"
    from lang1core.synth.oracle import ablated_oracle

    ablated = ablated_oracle(cfg)
    rows, differing, lower = [], 0, 0
    for task in TASK_ORDER:
        data = tasks(task, EVAL_SPLIT)
        a, _ = oracle_auroc(ablated, task, data)
        ids = pl.DataFrame({"encounter_id": encounter_ids(data)})
        pair = ids.join(oracle.filter(pl.col("task") == task).select("encounter_id", "probs"), on="encounter_id",
                        how="left").join(ablated.filter(pl.col("task") == task).select("encounter_id", ab="probs"),
                                         on="encounter_id", how="left")
        differs = probs_differ(pair["probs"], pair["ab"])
        is_lower = differs and a is not None and oracle_auc[task] is not None and a < oracle_auc[task]
        differing += differs
        lower += is_lower
        rows.append([task, oracle_auc[task], a, "yes" if differs else "no",
                     "lower" if differs else "", ("yes" if is_lower else "no") if differs else ""])
    ok = differing > 0 and lower == differing
    rows.append([f"lower on {lower} of {differing} differing tasks", "", "", "", "every differing task", verdict(ok)])
    rep.section(name, ["task", "oracle AUROC", "ablated AUROC", "differs", "target", "result"], rows,
                ["A hospital whose oracle ignores the cues fails: the cues would not matter."] if not differing else [])


def probs_differ(a: pl.Series, b: pl.Series, tol: float = 1e-9) -> bool:
    """Whether two aligned probability columns differ (beyond float noise, or in coverage)."""
    if (a.is_null() != b.is_null()).any():
        return True
    keep = (a.is_not_null() & b.is_not_null()).to_numpy()
    if not keep.any():
        return False
    x, y = np.array(a.filter(keep).to_list(), np.float64), np.array(b.filter(keep).to_list(), np.float64)
    return x.shape != y.shape or bool(np.abs(x - y).max() > tol)


def site_ablation(rep: Report, tasks: Tasks, models: dict) -> None:
    rows, lower = [], 0
    for task in TASK_ORDER:
        m = models[task]
        test, ext = tasks(task, "test"), tasks(task, "external")
        a_in, a_ext = score(m.predict(test), test.labels), score(m.predict(ext), ext.labels)
        ok = None if a_in is None or a_ext is None else a_ext < a_in
        lower += bool(ok)
        rows.append([task, len(test), a_in, len(ext), a_ext, "lower", verdict(ok)])
    rep.section(f"4c. Sites: TF-IDF (whole train, sites other than {HELD_OUT_SITE}) on the held-out site",
                ["task", "test n", "in-site test AUROC", "external n", "external AUROC", "target", "result"], rows,
                [f"External lower on {lower} of {len(TASK_ORDER)} tasks. `external` holds every window of "
                 f"{HELD_OUT_SITE} (2013-2024), so it mixes site and time shift."])


def task_notes(remede: Path, manifest: dict) -> pl.DataFrame:
    """Every distinct note of the task data (H&P and discharge summary) with site, date and period."""
    files = [remede / t / f"{s}.parquet" for t in manifest["tasks"] for s in manifest["tasks"][t]["splits"]]
    year = pl.col("note_date").dt.year()
    return (pl.scan_parquet(files).select("encounter_id", "note_type", "site", "note_date", "text")
            .unique(["encounter_id", "note_type"], keep="first")
            .with_columns(period=pl.when(year < 2018).then(pl.lit(PERIODS[0]))
                          .when(year <= 2023).then(pl.lit(PERIODS[1])).otherwise(pl.lit(PERIODS[2])))
            .sort("encounter_id", "note_type").collect(engine="streaming"))


def text_measures(rep: Report, out: Path, notes: pl.DataFrame, seed: int) -> None:
    from lang1core.export.validate import read_validated
    from lang1core.synth import measures as M

    rows = []
    order = np.random.default_rng(seed).permutation(notes.height)[:WORDS_PER]
    texts = notes["text"]
    # At least ~20 points on the growth curve, for the Heaps' law fit when there are few notes.
    step = max(50, min(NOTE_BATCH, len(order) // 20))
    batches = (texts.gather(order[i:i + step]).to_list() for i in range(0, len(order), step))
    wt = M.word_types(tqdm(batches, total=-(-len(order) // step), desc="word types", file=sys.stderr),
                      per=WORDS_PER)
    how = (f"{wt.types:,} in {wt.notes:,} notes, extrapolated by Heaps' law (K {wt.heaps[0]:.1f}, beta "
           f"{wt.heaps[1]:.3f})" if wt.extrapolated else f"random {wt.notes:,} of {notes.height:,} task notes")
    rows.append(["word types per 100,000 task notes", "all", round(wt.per_estimate), how, f">= {MIN_WORD_TYPES:,}",
                 verdict(wt.per_estimate >= MIN_WORD_TYPES)])
    lf = read_validated(out / "validated", "notes")
    with tqdm(total=2, desc="duplicates and sections", file=sys.stderr) as bar:
        dup = M.duplicate_share(lf)
        bar.update()
        sec = M.section_variants(lf, SECTION_TYPES)
        bar.update()
    for r in dup.iter_rows(named=True):
        rows.append(["number-masked duplicate share %", r["note_type"], 100 * r["share"], f"{r['notes']:,} notes",
                     f"< {100 * MAX_DUPLICATE_SHARE:g}%", verdict(r["share"] < MAX_DUPLICATE_SHARE)])
    for t in SECTION_TYPES:
        r = sec.filter(pl.col("note_type") == t)
        v = int(r["variants"][0]) if r.height else 0
        rows.append(["section-structure variants", t, v, f"{int(r['notes'][0]) if r.height else 0:,} notes",
                     f">= {MIN_SECTION_VARIANTS}", verdict(v >= MIN_SECTION_VARIANTS)])
    hp = notes.filter(pl.col("note_type") == "history_and_physical")["text"]
    med = float(np.median(M.word_counts(hp))) if len(hp) else None
    rows.append(["median H&P words", "history_and_physical", med, f"{len(hp):,} task H&Ps",
                 f">= {MIN_MEDIAN_HP_WORDS}", verdict(None if med is None else med >= MIN_MEDIAN_HP_WORDS)])
    rep.section("5. Text", ["measure", "note type", "value", "over", "target", "result"], rows,
                ["Words: lower-cased letter runs (word types), whitespace-separated words (H&P length). "
                 "Duplicate share: notes repeating an earlier note's text once digit runs are masked, over every "
                 "note in the validated notes.csv. Section headers: SECTION_HEADER_PATTERN in "
                 "lang1core/synth/measures.py."],
                {"word_types_curve": wt.curve})


def drift(rep: Report, tasks: Tasks, oracle: pl.DataFrame, models: dict, notes: pl.DataFrame) -> None:
    from lang1core.synth import measures as M

    rows, below = [], {"oracle": 0, "TF-IDF (whole train)": 0}
    for task in TASK_ORDER:
        test, late = tasks(task, "test"), tasks(task, EVAL_SPLIT)
        pairs = {"oracle": (oracle_auroc(oracle, task, test)[0], oracle_auroc(oracle, task, late)[0]),
                 "TF-IDF (whole train)": (score(models[task].predict(test), test.labels),
                                          score(models[task].predict(late), late.labels))}
        for model, (a_test, a_late) in pairs.items():
            is_below = a_test is not None and a_late is not None and a_late < a_test
            below[model] += is_below
            change = None if a_test is None or a_late is None else a_late - a_test
            rows.append([model, task, a_test, a_late, change, "below", "yes" if is_below else "no"])
    summary = [[m, f"below on {k} of {len(TASK_ORDER)} tasks", "", "", "", f">= {DRIFT_MIN_TASKS} tasks",
                verdict(k >= DRIFT_MIN_TASKS)] for m, k in below.items()]
    rep.section(f"6. Drift: {EVAL_SPLIT} vs the in-period test split",
                ["model", "task", "test AUROC", f"{EVAL_SPLIT} AUROC", "change", "target", "result"], rows + summary)
    per_period, per_site = [], []
    for i in tqdm(range(0, notes.height, NOTE_BATCH), desc="drift token counts", file=sys.stderr):
        a, b = M.token_period_counts(notes.slice(i, NOTE_BATCH).select("text", "period", "site"))
        per_period.append(a)
        per_site.append(b)
    top = M.drift_tokens(pl.concat(per_period), pl.concat(per_site), PERIODS)
    n_by = notes.group_by("period").len()
    sizes = ", ".join(f"{p} {int(n_by.filter(pl.col('period') == p)['len'].sum()):,}" for p in PERIODS)
    rep.section("6b. Tokens whose frequency moves most between periods (per 10,000 tokens)",
                ["token", *PERIODS, "log ratio", "highest in", "lowest in"],
                [list(r) for r in top.iter_rows()],
                [f"Counted in all {notes.height:,} task notes (H&P and discharge summary; {sizes}); tokens in "
                 ">= 20 notes at each of >= 2 sites; add-one smoothing."])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-patients", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=3407)
    p.add_argument("--out", default=None, help="folder for the hospital, its tasks and synth_validity.json "
                   "(default: a folder per n-patients and seed in the temporary directory, reused across runs)")
    p.add_argument("--max-train", type=int, default=WHOLE_TRAIN_CAP,
                   help="most training examples of a 'whole train split' TF-IDF fit (stratified sample)")
    args = p.parse_args()
    if args.max_train < SMALL_TRAIN:
        p.error(f"--max-train must be at least {SMALL_TRAIN}, got {args.max_train}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)

    from lang1core.provenance import provenance
    from lang1core.synth import SynthConfig

    out = Path(args.out or Path(tempfile.gettempdir()) / f"synth_validity_n{args.n_patients}_s{args.seed}")
    cfg = SynthConfig(n_patients=args.n_patients, seed=args.seed)
    seconds: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        seconds[name] = round(now - t, 1)
        log.info("%s: %.1f s", name, now - t)
        t = now

    manifest = prepare(out, cfg, args.seed)
    lap("hospital")
    rep = Report()
    print(f"## Synthetic hospital validity: {args.n_patients:,} patients, seed {args.seed}", flush=True)
    tasks = Tasks(out / "remede")
    oracle = pl.read_parquet(out / "oracle" / "oracle.parquet")
    class_ratios(rep, manifest)
    oracle_auc = oracle_table(rep, tasks, oracle)
    lap("ratios and oracle")
    fitted = headroom(rep, tasks, oracle_auc, args.seed, args.max_train)
    lap("headroom")
    lexicon_ablation(rep, tasks, fitted["aurocs"]["1000"], args.seed)
    tasks.forget("train", "val")
    lap("lexicon ablation")
    cue_ablation(rep, tasks, oracle, oracle_auc, cfg)
    lap("cue ablation")
    site_ablation(rep, tasks, fitted["models"])
    lap("site ablation")
    notes = task_notes(out / "remede", manifest)
    text_measures(rep, out, notes, args.seed)
    lap("text")
    drift(rep, tasks, oracle, fitted["models"], notes)
    lap("drift")
    result = {"n_patients": args.n_patients, "seed": args.seed, "eval_split": EVAL_SPLIT,
              "max_train": args.max_train, "seconds": seconds,
              "verdicts": rep.verdicts, "sections": rep.sections,
              "provenance": provenance({"n_patients": args.n_patients, "seed": args.seed, "max_train": args.max_train,
                                        "synth_code": synth_code_hash()}, args.seed)}
    (out / "synth_validity.json").write_text(json.dumps(result, indent=2, default=str))
    print(f"\ntargets: {rep.verdicts['PASS']} PASS, {rep.verdicts['FAIL']} FAIL")
    print(f"seconds per stage: {seconds}; results in synth_validity.json beside the hospital", flush=True)
    log.info("wrote %s", out / "synth_validity.json")


if __name__ == "__main__":
    main()
