"""Note text, built column-wise with polars (no per-note Python loop).

Every inpatient stay gets an H&P at admission and a discharge summary; the corpus notes
(progress, nursing, consult, radiology, pathology; clinic and emergency notes for other
classes) make the pretraining corpus. Text renders the visible facts of the latent model
(problem list with synonyms and abbreviations, vitals and labs with units, code status,
social history, medications of the year, documentation of medical necessity) and nothing
of a note's own label: an H&P never mentions death, length of stay or the claim's fate.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from lang1core.synth import latent
from lang1core.synth.catalog import (
    CONDITIONS, COVID_DRUGS, DEPARTMENTS, DISPOSITION_WORDS, DISPOSITIONS, N_COND, PAYER_WORDS, PAYERS,
)
from lang1core.synth.encounters import DX_COMPLAINT, DX_WORDS, measure_values
from lang1core.synth.hospital import Chunk
from lang1core.synth.styles import STYLES, TEMPLATE_CHANGE, style_of

WORDS = np.array([w for c in CONDITIONS for w in c.words])
WORD_COUNT = np.array([len(c.words) for c in CONDITIONS])
WORD_OFFSET = np.r_[0, np.cumsum(WORD_COUNT)[:-1]]
DEPT_WORDS = [d.words for d in DEPARTMENTS]

NEGATIONS = ("Denies chest pain.", "Denies fevers or chills.", "No shortness of breath.", "Denies abdominal pain.",
             "No nausea or vomiting.", "Denies headache.", "No recent travel.", "Denies dysuria.",
             "No sick contacts.", "Denies melena or hematochezia.")
PLANS = ("Continue home medications as tolerated.", "Monitor on telemetry.", "Trend labs in AM.",
         "PT/OT evaluation.", "DVT prophylaxis with enoxaparin.", "Pain control as needed.",
         "Strict intake and output.", "Diet as tolerated.", "IV fluids and reassess.", "Consult as needed.")
NECESSITY = ("Inpatient admission is medically necessary; expected stay spans at least two midnights.",
             "Requires inpatient level of care for IV therapy and close monitoring.",
             "Severity of illness and intensity of service support inpatient admission.",
             "Patient meets inpatient criteria given risk of deterioration and need for IV treatment.")
EXAMS = ("General: alert, no acute distress. Lungs: clear bilaterally. CV: RRR, no murmurs. Abd: soft, nontender.",
         "Gen: NAD. Chest: CTAB. Heart: regular rate and rhythm. Abdomen: soft. Ext: no edema.",
         "Awake and oriented x3. Breath sounds diminished at bases. S1 S2 normal. Abdomen benign. Trace edema.",
         "Appears uncomfortable. Lungs with scattered crackles. Tachycardic, regular. Abdomen soft, mildly tender.")


def _pick(rng, options, n, power=None) -> pl.Series:
    u = rng.random(n)
    if power is not None:
        u = u ** power
    return pl.Series(list(options)).gather(np.minimum((u * len(options)).astype(np.int64), len(options) - 1))


def _joined(rows: np.ndarray, words: np.ndarray, n: int, sep: str, empty: str) -> pl.Series:
    """Join words per row (rows sorted or not); rows without words get `empty`."""
    df = pl.DataFrame({"row": rows.astype(np.int64), "w": words}).group_by("row").agg(pl.col("w").str.join(sep))
    full = pl.DataFrame({"row": np.arange(n, dtype=np.int64)}).join(df, on="row", how="left", maintain_order="left")
    return full["w"].fill_null(empty)


def _problem_list(rng, present: np.ndarray, power: np.ndarray) -> pl.Series:
    r, k = np.nonzero(present)
    u = rng.random(len(r)) ** power[r]
    words = WORDS[WORD_OFFSET[k] + np.minimum((u * WORD_COUNT[k]).astype(np.int64), WORD_COUNT[k] - 1)]
    return _joined(r, words, len(present), ", ", "none")


def _medications(rng, present: np.ndarray, year: np.ndarray, covid: np.ndarray) -> pl.Series:
    rows, names = [], []
    for k, c in enumerate(CONDITIONS):
        if not c.drugs:
            continue
        r = np.nonzero(present[:, k])[0]
        if not len(r):
            continue
        active = np.array([[s <= y <= e for (_, s, e) in c.drugs] for y in range(1990, 2031)])  # (years, drugs)
        act = active[np.clip(year[r] - 1990, 0, 40)]
        score = rng.random(act.shape) * act
        best = score.argmax(1)
        ok = act[np.arange(len(r)), best]
        rows.append(r[ok])
        names.append(np.array([d[0] for d in c.drugs])[best[ok]])
    cr = np.nonzero(covid)[0]
    for name, s, e in COVID_DRUGS:
        sel = cr[(year[cr] >= s) & (year[cr] <= e)]
        rows.append(sel)
        names.append(np.full(len(sel), name))
    rows_a = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    names_a = np.concatenate(names) if names else np.zeros(0, str)
    return _joined(rows_a, names_a, len(present), "; ", "no home medications")


def facts_frame(rng: np.random.Generator, chunk: Chunk, rows: np.ndarray) -> pl.DataFrame:
    """String facts of the given encounter rows, shared by every note type."""
    enc = chunk.enc[rows]
    n = len(rows)
    age = enc["age"].to_numpy()
    sex = chunk.pop.sex[enc["pat"].to_numpy()]
    site = enc["site_i"].to_numpy()
    year = enc["year"].to_numpy()
    power = np.array([1.0 / style_of(s, y).abbreviate for s, y in zip(site, year)]) if n else np.zeros(0)
    months = np.floor(age * 12).astype(np.int64)
    age_str = np.where(age < 2, np.char.add(months.astype(str), "-month-old"),
                       np.char.add(np.floor(age).astype(np.int64).astype(str), "-year-old"))
    child = age < 18
    sex_word = np.where(child, np.where(sex == "female", "girl", "boy"), np.where(sex == "female", "woman", "man"))
    present = chunk.present[rows]
    pat = enc["pat"].to_numpy()
    pop = chunk.pop
    smoke = np.array(["never smoker", "former smoker", "current smoker, 1 ppd"])[pop.smoker[pat]]
    smoke = np.where(child, "no tobacco exposure", smoke)
    housing = np.where(pop.housing_unstable[pat], "Currently homeless, staying in a shelter.",
                       np.where(enc["lives_alone"].to_numpy(), "Lives alone.", "Lives with family."))
    substance = np.where(pop.substance_use[pat], "Reports daily alcohol use and occasional cocaine use.",
                         "Denies illicit drug use; drinks socially.")
    substance = np.where(child, "", substance)
    dept = enc["dept_i"].to_numpy()
    dx = enc["dx"].to_numpy()
    v = measure_values(chunk.z[rows])
    fahrenheit = np.array([style_of(s, y).fahrenheit for s, y in zip(site, year)], dtype=bool)
    temp = np.where(fahrenheit, np.round(v["temp_c"] * 9 / 5 + 32, 1), v["temp_c"])
    dbp = np.round(v["sbp"] * 0.6 + 2).astype(np.int64)
    spo2 = (97 - 2 * present[:, [c.key for c in CONDITIONS].index("cpd")] - 3 * enc["covid"].to_numpy()
            + np.round(rng.standard_normal(n))).clip(80, 100).astype(np.int64)
    labs_shown = chunk.shown[rows][:, [m[0] for m in latent.MEASURES].index("wbc")]
    renal = present[:, [c.key for c in CONDITIONS].index("renal")]
    creat = np.round(np.exp(np.log(0.9) + 0.15 * rng.standard_normal(n)) + 2.8 * renal, 1)
    covid = enc["covid"].to_numpy()
    pandemic = (year >= 2020) & (year <= 2022)
    df = pl.DataFrame({
        "age_str": age_str, "sex_word": sex_word, "site": site, "year": year,
        "dept_word": pl.Series([DEPT_WORDS[d][0] for d in dept]) if n else pl.Series([], dtype=pl.String),
        "dx_words": DX_WORDS[dx], "complaint": DX_COMPLAINT[dx],
        "hr": v["hr"].astype(np.int64), "rr": v["rr"].astype(np.int64), "sbp": v["sbp"].astype(np.int64), "dbp": dbp,
        "temp": temp, "temp_unit": np.where(fahrenheit, "F", "C"), "spo2": spo2,
        "wbc": v["wbc"], "lactate": v["lactate"], "creat": creat, "labs_shown": labs_shown,
        "smoke": smoke, "housing": housing, "substance": substance,
        "adm_date": enc["admit_time"].dt.strftime("%m/%d/%Y"),
        "adm_type": enc["admission_type"],
        "covid_line": np.where(covid, " SARS-CoV-2 PCR positive.", np.where(pandemic, " COVID-19 screen negative.", "")),
    })
    df = df.with_columns(
        problems=_problem_list(rng, present, power),
        meds=_medications(rng, present, year, covid),
        payer_word=_payer_words(rng, enc["payer_i"].to_numpy()),
        neg1=pl.Series(NEGATIONS).gather(neg := rng.integers(0, len(NEGATIONS), n)),
        # a second, different negation
        neg2=pl.Series(NEGATIONS).gather((neg + rng.integers(1, len(NEGATIONS), n)) % len(NEGATIONS)),
        plan1=_pick(rng, PLANS, n), plan2=_pick(rng, PLANS, n),
        exam=_pick(rng, EXAMS, n),
        necessity=_pick(rng, NECESSITY, n),
        doc_missing=enc["doc_missing"].to_numpy(),
        code=np.where(enc["dnr"].to_numpy(), "DNR/DNI", "Full code"),
    )
    return df


def _payer_words(rng, payer: np.ndarray) -> pl.Series:
    words = np.array([PAYER_WORDS[p][0] for p in PAYERS])
    alt = np.array([PAYER_WORDS[p][1] for p in PAYERS])
    return pl.Series(np.where(rng.random(len(payer)) < 0.7, words[payer], alt[payer]))


def _section(style, key: str, body: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(style.headers[key] + style.sep), body])


def _hp_sections(style) -> dict[str, pl.Expr]:
    c = pl.col
    vitals = pl.concat_str([pl.lit("T "), c("temp").cast(pl.String), pl.lit(" "), c("temp_unit"),
                            pl.lit(", HR "), c("hr").cast(pl.String), pl.lit(", BP "), c("sbp").cast(pl.String),
                            pl.lit("/"), c("dbp").cast(pl.String), pl.lit(" mmHg, RR "), c("rr").cast(pl.String),
                            pl.lit(", SpO2 "), c("spo2").cast(pl.String), pl.lit("% on room air")])
    labs = pl.when(c("labs_shown")).then(pl.concat_str([
        pl.lit("WBC "), c("wbc").cast(pl.String), pl.lit(" K/uL, lactate "), c("lactate").cast(pl.String),
        pl.lit(" mmol/L, creatinine "), c("creat").cast(pl.String), pl.lit(" mg/dL")])).otherwise(pl.lit("pending"))
    history = pl.when(c("problems") == "none").then(pl.lit("no significant past medical history")).otherwise(
        c("problems"))
    hpi = pl.concat_str([c("age_str"), pl.lit(" "), c("sex_word"), pl.lit(" with "), history,
                         pl.lit(" who presents with "), c("complaint"), pl.lit(". "), c("neg1"), pl.lit(" "),
                         c("neg2"), c("covid_line")])
    ap = pl.concat_str([c("dx_words"), pl.lit(". Admit to "), c("dept_word"), pl.lit(". "), c("plan1"), pl.lit(" "),
                        c("plan2"), pl.when(c("doc_missing")).then(pl.lit(""))
                        .otherwise(pl.concat_str([pl.lit(" "), c("necessity")]))])
    social = pl.concat_str([c("housing"), pl.lit(" "), c("smoke"), pl.lit(". "), c("substance")])
    return {
        "payer": _section(style, "payer", c("payer_word")),
        "cc": _section(style, "cc", c("complaint")),
        "hpi": _section(style, "hpi", hpi),
        "pmh": _section(style, "pmh", c("problems")),
        "meds": _section(style, "meds", c("meds")),
        "social": _section(style, "social", social),
        "code": _section(style, "code", c("code")),
        "vitals": _section(style, "vitals", vitals),
        "labs": _section(style, "labs", labs),
        "exam": _section(style, "exam", c("exam")),
        "ap": _section(style, "ap", ap),
    }


def _by_style(facts: pl.DataFrame, build) -> pl.Series:
    """Apply `build(style) -> pl.Expr` to each (site, era) group; text in the input order."""
    site = facts["site"].to_numpy()
    year = facts["year"].to_numpy()
    ts = np.array(TEMPLATE_CHANGE)
    era = (year >= ts[site % len(ts)]).astype(np.int64)
    idx_all = np.arange(facts.height)
    parts = []
    for s in np.unique(site % len(STYLES)):
        for e in (0, 1):
            m = ((site % len(STYLES)) == s) & (era == e)
            if not m.any():
                continue
            sub = facts.filter(pl.Series(m))
            parts.append(pl.DataFrame({"i": idx_all[m], "text": sub.select(build(STYLES[s][e]).alias("t"))["t"]}))
    return pl.concat(parts).sort("i")["text"] if parts else pl.Series("text", [], dtype=pl.String)


def history_and_physical(facts: pl.DataFrame) -> pl.Series:
    def build(style):
        sec = _hp_sections(style)
        title = pl.concat_str([pl.lit(style.hp_title + "\nAdmission date: "), pl.col("adm_date"),
                               pl.lit(" (admission type: "), pl.col("adm_type"), pl.lit(")")])
        return pl.concat_str([title] + [sec[k] for k in style.hp_order], separator="\n\n")
    return _by_style(facts, build)


def discharge_summary(facts: pl.DataFrame) -> pl.Series:
    c = pl.col

    def build(style):
        expired = c("expired")
        course = pl.concat_str([c("age_str"), pl.lit(" "), c("sex_word"), pl.lit(" admitted to "), c("dept_word"),
                                pl.lit(" with "), c("complaint"), pl.lit(", treated for "), c("dx_words"),
                                pl.lit(". Length of stay "), c("los_days").cast(pl.String), pl.lit(" days. "),
                                pl.when(expired).then(pl.concat_str([
                                    pl.lit("Despite treatment the patient's condition declined. Patient expired on "),
                                    c("dis_date"), pl.lit("; time of death "), c("dis_clock"), pl.lit(".")]))
                                .otherwise(c("course_line"))])
        sec = {
            "dates": _section(style, "dates", pl.concat_str([pl.lit("admitted "), c("adm_date"), pl.lit(", discharged "),
                                                             c("dis_date")])),
            "dx": _section(style, "dx", c("dx_words")),
            "secondary": _section(style, "secondary", c("problems")),
            "course": _section(style, "course", course),
            "dispo": _section(style, "dispo", c("dispo_word")),
            "code": _section(style, "code", c("code")),
            "dmeds": _section(style, "dmeds", pl.when(expired).then(pl.lit("none")).otherwise(c("meds"))),
            "planning": _section(style, "planning", pl.concat_str([c("housing"), pl.lit(" "), c("substance")])),
            "followup": _section(style, "followup", pl.when(expired).then(pl.lit("n/a"))
                                 .otherwise(pl.lit("PCP in 1-2 weeks."))),
        }
        return pl.concat_str([pl.lit(style.ds_title)] + [sec[k] for k in style.ds_order], separator="\n\n")
    return _by_style(facts, build)


COURSE = ("Improved with treatment and was stable for discharge.", "Symptoms resolved; tolerating diet.",
          "Clinically improved; ambulating independently.", "Responded to therapy; afebrile for 24 hours.")
RADIOLOGY = ("EXAM: Chest radiograph, PA and lateral. FINDINGS: {f} IMPRESSION: {i}",
             "CT abdomen and pelvis with contrast. Findings: {f} Impression: {i}")
RAD_FINDINGS = ("No focal consolidation. No pleural effusion.", "Patchy right lower lobe opacity.",
                "Mild cardiomegaly with small bilateral effusions.", "Bilateral ground-glass opacities.",
                "No acute abnormality.")
NURSING = ("Nursing note: patient resting comfortably, pain {p}/10, IV site clean and dry. Fall precautions in place.",
           "RN note: ambulated in hallway with assist. Pain {p}/10. Tolerating diet. Call bell within reach.",
           "Nursing: vitals stable this shift, pain {p}/10, voiding without difficulty, family at bedside.")
CONSULT = ("{d} consulted for {x}. Impression: {x}. Recommendations: {p}",)
PATHOLOGY = ("SPECIMEN: {s}. GROSS: received in formalin. DIAGNOSIS: {d}.",)
PATH_SPECIMENS = ("appendix", "gallbladder", "colon, segmental resection", "skin, shave biopsy",
                  "lymph node, core biopsy")
PATH_DX = ("acute suppurative appendicitis", "chronic cholecystitis with cholelithiasis",
           "benign colonic mucosa", "reactive lymphoid hyperplasia", "adenocarcinoma, moderately differentiated")
# Plans of clinic, emergency and observation visits (the inpatient PLANS speak of telemetry).
VISIT_PLANS = ("Follow up in 3 months.", "Continue current medications.", "Labs before next visit.",
               "Return precautions reviewed.", "Refill medications; follow up in 6 months.")
CLINIC = ("{a} {s} seen in {d} for {c}. Problems: {p}. Medications: {m}. Plan: {q}",
          "Visit for {c}. {a} {s}. Active problems: {p}. Current meds: {m}. {q}")


def _fill(template_choice: pl.Series, **cols: pl.Series) -> pl.Series:
    """Fill templates containing {key} slots with per-row values (vectorised)."""
    out = template_choice
    for key, values in cols.items():
        # polars replaces a literal pattern with a per-row value only through concat of splits.
        pieces = out.str.split_exact("{" + key + "}", 1).struct.unnest()
        out = pl.DataFrame({"a": pieces["field_0"], "b": pieces["field_1"], "v": values.cast(pl.String)}).select(
            pl.when(pl.col("b").is_null()).then(pl.col("a")).otherwise(pl.concat_str(["a", "v", "b"])).alias("o"))["o"]
        # A template may use a key twice.
        if out.str.contains("{" + key + "}", literal=True).any():
            out = _fill(out, **{key: values})
    return out


SEC = np.timedelta64(1, "s")


def _times_within(rng, admit, discharge, lo_frac, hi_frac):
    span = (discharge - admit) / SEC
    return admit + (span * (lo_frac + (hi_frac - lo_frac) * rng.random(len(admit)))).astype(np.int64) * SEC


def chunk_notes(rng: np.random.Generator, chunk: Chunk, corpus: bool) -> pl.DataFrame:
    """All notes of a chunk: note_id, patient_id, encounter_id, note_type, note_time, text."""
    enc = chunk.enc
    cls = enc["cls_i"].to_numpy()
    admit = enc["admit_time"].to_numpy()
    discharge = enc["discharge_time"].to_numpy()
    frames = []

    def add(rows, note_type, seq, times, text):
        frames.append(pl.DataFrame({"row": rows.astype(np.int64), "seq": np.full(len(rows), seq, np.int64),
                                    "note_type": np.full(len(rows), note_type), "note_time": times,
                                    "text": text}, schema_overrides={"text": pl.String, "note_type": pl.String}))

    inp = np.nonzero(cls == 0)[0]
    f = facts_frame(rng, chunk, inp)
    sub = enc[inp]
    hp_t = np.minimum(admit[inp] + (1800 + rng.random(len(inp)) * 3 * 3600).astype(np.int64) * SEC, discharge[inp])
    add(inp, "history_and_physical", 0, hp_t, history_and_physical(f))
    disp = sub["disp_i"].to_numpy()
    dis = sub["discharge_time"]
    f = f.with_columns(
        expired=sub["expired"], los_days=sub["los_days"],
        adm_date=sub["admit_time"].dt.strftime("%m/%d/%Y"), dis_date=dis.dt.strftime("%m/%d/%Y"),
        dis_clock=dis.dt.strftime("%H:%M"),
        dispo_word=pl.Series([DISPOSITION_WORDS[DISPOSITIONS[d]][0] for d in disp], dtype=pl.String),
        course_line=_pick(rng, COURSE, len(inp)),
    )
    # Written in the last two hours of the stay, never before the H&P (short stays).
    ds_t = np.maximum(discharge[inp] - (rng.random(len(inp)) * 2 * 3600).astype(np.int64) * SEC, hp_t)
    add(inp, "discharge_summary", 1, ds_t, discharge_summary(f))
    if corpus:
        _corpus_notes(rng, chunk, f, inp, admit, discharge, add)
    if not frames:
        return _empty()
    notes = pl.concat(frames).sort(["row", "seq"])
    rows = notes["row"].to_numpy()
    eid = enc["encounter_id"].to_numpy()[rows]
    return notes.select(
        note_id=pl.concat_str([pl.lit("N"), pl.Series(eid).str.slice(1), pl.col("seq").cast(pl.String).str.zfill(2)]),
        patient_id=pl.Series(enc["patient_id"].to_numpy()[rows]),
        encounter_id=pl.Series(eid),
        note_type=pl.col("note_type"),
        note_time=pl.col("note_time"),
        text=pl.col("text"),
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={"note_id": pl.String, "patient_id": pl.String, "encounter_id": pl.String,
                                "note_type": pl.String, "note_time": pl.Datetime("us"), "text": pl.String})


def _corpus_notes(rng, chunk, f, inp, admit, discharge, add):
    enc = chunk.enc
    n = len(inp)
    los = enc["los_days"].to_numpy()[inp]
    # Progress notes on hospital days 1..3 (each only when the stay lasts past that day).
    for d in (1, 2, 3):
        m = los >= d
        r = inp[m]
        t = admit[r] + (d * 86400 - 3600 * 4 + rng.random(len(r)) * 3600 * 2).astype(np.int64) * SEC
        t = np.minimum(t, discharge[r])
        fm = f.filter(pl.Series(m))
        text = fm.select(pl.concat_str([
            pl.lit("Progress note, hospital day " + str(d) + ". S: feels "),
            pl.Series(_pick(rng, ("better", "about the same", "tired", "less short of breath"), len(r))),
            pl.lit(". O: HR "), pl.col("hr").cast(pl.String), pl.lit(", BP "), pl.col("sbp").cast(pl.String),
            pl.lit("/"), pl.col("dbp").cast(pl.String), pl.lit(". A/P: "), pl.col("dx_words"), pl.lit(". "),
            pl.col("plan1"), pl.lit(" "), pl.col("plan2")]).alias("t"))["t"]
        add(r, "progress", 1 + d, t, text)
    nurse = pl.Series(NURSING).gather(rng.integers(0, len(NURSING), n))
    add(inp, "nursing", 5, _times_within(rng, admit[inp], discharge[inp], 0.1, 0.9),
        _fill(nurse, p=pl.Series(rng.integers(0, 8, n))))
    m = rng.random(n) < 0.5
    r = inp[m]
    rad = _fill(pl.Series(RADIOLOGY).gather(rng.integers(0, len(RADIOLOGY), len(r))),
                f=_pick(rng, RAD_FINDINGS, len(r)), i=_pick(rng, ("No acute process.", "Findings as above.",
                                                                   "Correlate clinically."), len(r)))
    add(r, "radiology", 6, _times_within(rng, admit[r], discharge[r], 0.0, 0.3), rad)
    m = rng.random(n) < 0.3
    r = inp[m]
    fm = f.filter(pl.Series(m))
    con = _fill(pl.Series(CONSULT).gather(np.zeros(len(r), np.int64)),
                d=_pick(rng, ("Cardiology", "Infectious Disease", "Nephrology", "Gastroenterology", "Social Work"), len(r)),
                x=fm["dx_words"], p=fm["plan1"])
    add(r, "consult", 7, _times_within(rng, admit[r], discharge[r], 0.2, 0.6), con)
    dept = enc["department"].to_numpy()[inp]
    m = np.isin(dept, ("surgery", "oncology")) & (rng.random(n) < 0.5)
    r = inp[m]
    path = _fill(pl.Series(PATHOLOGY).gather(np.zeros(len(r), np.int64)), s=_pick(rng, PATH_SPECIMENS, len(r)),
                 d=_pick(rng, PATH_DX, len(r)))
    add(r, "pathology", 8, _times_within(rng, admit[r], discharge[r], 0.3, 0.9), path)
    # Clinic, emergency and observation notes.
    other = np.nonzero(enc["cls_i"].to_numpy() != 0)[0]
    fo = facts_frame(rng, chunk, other)
    k = len(other)
    clinic = _fill(pl.Series(CLINIC).gather(rng.integers(0, len(CLINIC), k)), a=fo["age_str"], s=fo["sex_word"],
                   d=fo["dept_word"], c=fo["complaint"], p=fo["problems"], m=fo["meds"],
                   q=_pick(rng, VISIT_PLANS, k))
    add(other, "progress", 0, _times_within(rng, admit[other], discharge[other], 0.2, 0.9), clinic)
    ed = other[(enc["cls_i"].to_numpy()[other] == 2) & (rng.random(k) < 0.3)]
    rad = _fill(pl.Series(RADIOLOGY).gather(np.zeros(len(ed), np.int64)), f=_pick(rng, RAD_FINDINGS, len(ed)),
                i=_pick(rng, ("No acute process.", "Findings as above."), len(ed)))
    add(ed, "radiology", 1, _times_within(rng, admit[ed], discharge[ed], 0.1, 0.9), rad)


def split_parts(rng: np.random.Generator, notes: pl.DataFrame, fraction: float) -> pl.DataFrame:
    """Give every note a `part`; a `fraction` of multi-section notes become two narrative
    fields (split at a blank line; joining the parts with a blank line restores the text)."""
    multi = (rng.random(notes.height) < fraction) & notes["text"].str.contains("\n\n", literal=True).to_numpy()
    single = notes.filter(~pl.Series(multi)).with_columns(part=pl.lit(1, pl.Int64))
    m = notes.filter(pl.Series(multi)).with_columns(_s=pl.col("text").str.split("\n\n"))
    m = m.with_columns(_k=(pl.col("_s").list.len() // 2))
    p1 = m.with_columns(text=pl.col("_s").list.slice(0, pl.col("_k")).list.join("\n\n"), part=pl.lit(1, pl.Int64))
    p2 = m.with_columns(text=pl.col("_s").list.slice(pl.col("_k")).list.join("\n\n"), part=pl.lit(2, pl.Int64))
    out = pl.concat([single, p1.drop("_s", "_k"), p2.drop("_s", "_k")])
    return out.sort(["encounter_id", "note_id", "part"], maintain_order=True)
