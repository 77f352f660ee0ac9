"""Check an export against the contract and write its typed, validated tables.

Two passes per table keep memory bounded whatever the size of the notes:
1. a streaming pass computes, for every row, the first problem it has (undecodable bytes,
   NUL bytes, a missing or unparsable value, an unknown category, a discharge before the
   admission) and keeps only row numbers, keys and reasons;
2. duplicates and foreign keys are checked on those small key frames, parents first, so a
   note whose encounter was rejected is rejected too and says why;
3. a second streaming pass writes kept rows typed to `{table}.parquet` and rejected rows,
   with their original strings, to `rejected/{table}.parquet`.
Every rejected row carries `reason` (a category, counted in report.json) and `detail` (file,
row, column and value). read == kept + rejected is asserted for every table.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict
from pathlib import Path

import polars as pl

from lang1core.export.contract import DATE, DATETIME, INT, STR, TABLE_ORDER, TABLES, Column, Table
from lang1core.export.mapping import ExportMapping
from lang1core.export.reading import BROKEN, ROW, ExportSchemaError, TableSource, open_table
from lang1core.private_files import DIR_MODE, FILE_MODE, make_private, private_umask
from lang1core.publish import published_file, write_json

log = logging.getLogger(__name__)

REASON, DETAIL = "reason", "detail"
# ISO-8601 forms a SQL export writes; a date alone means midnight.
DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")
# The same with a UTC offset, after "T" -> " " and "Z" -> "+00:00".
OFFSET_FORMATS = ("%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M%z")
EXAMPLES_PER_REASON = 5
# Tables a study cannot start without; diagnoses and claims feed one task each, so an empty
# one is the readiness report's to name (`lang1core.remede.readiness`).
NEED_ROWS = ("patients", "encounters", "notes")


# --- per-column expressions -----------------------------------------------------------------

def normalised(col: Column, mapping: ExportMapping | None = None) -> pl.Expr:
    """The string value as the contract reads it: stripped (not text), lowercased categories
    mapped through `mapping.values`, "" → null."""
    e = pl.col(col.name)
    if not col.text:
        e = e.str.strip_chars()
    if col.lowercase:
        e = e.str.to_lowercase()
        if mapping is not None and col.name in mapping.values:
            e = e.replace(mapping.values[col.name])
    return pl.when(e.str.len_bytes() == 0).then(None).otherwise(e)


def _with_offset(e: pl.Expr, time_zone: str) -> pl.Expr:
    """Date-times carrying "Z" or an offset, as naive local times of `time_zone` (else null)."""
    iso = e.str.replace(r"[zZ]$", "+00:00").str.replace("T", " ", literal=True)
    tries = [iso.str.to_datetime(f, time_unit="us", strict=False) for f in OFFSET_FORMATS]
    return pl.coalesce(tries).dt.convert_time_zone(time_zone).dt.replace_time_zone(None)


def parse_datetime(e: pl.Expr, mapping: ExportMapping | None = None) -> pl.Expr:
    m = mapping or ExportMapping()
    formats = [f for f in (m.datetime_format,) if f] + list(DATETIME_FORMATS)
    tries = [e.str.to_datetime(f, time_unit="us", strict=False) for f in formats]
    tries.append(_with_offset(e, m.time_zone))
    for f in [f for f in (m.date_format,) if f] + ["%Y-%m-%d"]:
        tries.append(e.str.to_date(f, strict=False).cast(DATETIME))
    return pl.coalesce(tries)


def parse_date(e: pl.Expr, mapping: ExportMapping | None = None) -> pl.Expr:
    m = mapping or ExportMapping()
    # A midnight date-time in a date column (common in SQL dumps) is read as its date.
    dates = [e.str.to_date(f, strict=False) for f in [f for f in (m.date_format,) if f] + ["%Y-%m-%d"]]
    return pl.coalesce(*dates, parse_datetime(e, m).dt.date())


def typed(col: Column, mapping: ExportMapping | None = None) -> pl.Expr:
    v = normalised(col, mapping)
    if col.dtype == DATETIME:
        return parse_datetime(v, mapping)
    if col.dtype == DATE:
        return parse_date(v, mapping)
    if col.dtype == INT:
        return v.cast(INT, strict=False)
    return v


EXPECTED = {DATETIME: "an ISO-8601 date-time (YYYY-MM-DD[ HH:MM[:SS]])", DATE: "an ISO-8601 date (YYYY-MM-DD)",
            INT: "an integer"}


def _shape(e: pl.Expr, n: int = 20) -> pl.Expr:
    """A value's shape (digits as 9, letters as a): says what is wrong without saying what it was."""
    return e.str.slice(0, n).str.replace_all(r"\d", "9").str.replace_all(r"[^\P{L}TZ]", "a")


def _short(e: pl.Expr, n: int = 40) -> pl.Expr:
    return e.str.slice(0, n)


def _date_hint(v: pl.Expr, col: Column) -> pl.Expr:
    key = "date_format" if col.dtype == DATE else "datetime_format"
    fmt = "%m/%d/%Y" if col.dtype == DATE else "%m/%d/%Y %H:%M"
    return (pl.when(v.str.contains(r"^\d{1,2}/\d{1,2}/\d{2,4}"))
            .then(pl.lit(f" — it looks like MM/DD/YYYY (or DD/MM/YYYY); set export.{key}, e.g. '{fmt}'"))
            .when(v.str.contains(r"^\d{9,13}(\.\d+)?$"))
            .then(pl.lit(" — it looks like epoch seconds/milliseconds; export a date or ISO-8601 text"))
            .otherwise(pl.lit("")))


def row_checks(t: Table, src: TableSource, present: list[str],
               mapping: ExportMapping | None = None) -> list[tuple[pl.Expr, str, pl.Expr]]:
    """(condition, reason, detail) in the order they are tried; a row gets the first that holds.

    Details name file, row, column and reason; they quote a value only for categorical
    columns (a closed vocabulary, never identifying). Identifiers, dates and note text are
    described by their shape at most, so reports and logs hold no patient data."""
    f = src.file.name
    row = pl.col(ROW)
    cols = [t.column(c) for c in present]

    def where(c: str) -> pl.Expr:
        return pl.format(f"{f}, row {{}}, column {c}: ", row)

    checks = [(pl.col(BROKEN).is_not_null(), "malformed CSV",
               pl.format(f"{f}, row {{}}, {{}}", row, pl.col(BROKEN)))]
    if src.invalid_utf8_bytes:
        for c in present:
            checks.append((pl.col(c).str.contains("\ufffd", literal=True).fill_null(False),
                           "non-UTF-8 bytes",
                           pl.concat_str(where(c), pl.lit("bytes that are not UTF-8 (see export.encoding)"))))
    for c in present:
        checks.append((pl.col(c).str.contains("\x00", literal=True).fill_null(False),
                       f"NUL byte in {c}", pl.concat_str(where(c), pl.lit("holds a NUL byte (0x00)"))))
    for col in cols:
        if not col.nullable:
            checks.append((normalised(col, mapping).is_null(), f"missing {col.name}",
                           pl.concat_str(where(col.name), pl.lit("empty"))))
    for col in cols:
        if col.dtype != STR:
            v = normalised(col, mapping)
            hint = _date_hint(v, col) if col.dtype in (DATE, DATETIME) else pl.lit("")
            checks.append((v.is_not_null() & typed(col, mapping).is_null(), f"unparsable {col.name}",
                           pl.concat_str(where(col.name), pl.format("a value shaped '{}' is not ", _shape(v)),
                                         pl.lit(EXPECTED[col.dtype]), hint)))
        if col.dtype == INT:
            checks.append(((typed(col, mapping) < 1).fill_null(False), f"invalid {col.name}",
                           pl.concat_str(where(col.name), pl.format("{} is below 1", typed(col, mapping)))))
        if col.allowed:
            v = normalised(col, mapping)
            checks.append((v.is_not_null() & ~v.is_in(list(col.allowed)), f"unknown {col.name}",
                           pl.concat_str(where(col.name), pl.format("'{}' is not one of ", _short(v)),
                                         pl.lit(", ".join(col.allowed)),
                                         pl.lit(f" (map the site's values in export.values.{col.name})"))))
    for first, later in t.ordered:
        if first in present and later in present:
            a, b = typed(t.column(first), mapping), typed(t.column(later), mapping)
            checks.append(((b < a).fill_null(False), f"{later} before {first}",
                           pl.format(f"{f}, row {{}}: {later} is before {first}", row)))
    return checks


def _first_of(checks, pick: int) -> pl.Expr:
    expr = pl.when(checks[0][0]).then(checks[0][pick] if pick == 2 else pl.lit(checks[0][1]))
    for c in checks[1:]:
        expr = expr.when(c[0]).then(c[2] if pick == 2 else pl.lit(c[1]))
    return expr.otherwise(pl.lit(None, pl.String))


# --- the table passes -----------------------------------------------------------------------

def _key_columns(t: Table, present: list[str]) -> list[str]:
    keys = [k for k in t.primary_key if k in present]
    keys += [fk.column for fk in t.foreign_keys if fk.column not in keys]
    if t.name == "notes":
        keys.append("patient_id") if "patient_id" not in keys else None
    return keys


def _cross_checks(t: Table, src: TableSource, df: pl.DataFrame, status: dict[str, pl.DataFrame],
                  kept_encounters: pl.DataFrame | None, present: list[str]) -> pl.DataFrame:
    """Add duplicate and foreign-key rejections to `df` (row, keys, reason, detail)."""
    f = src.file.name
    pk = [k for k in t.primary_key if k in present]
    ok = pl.col(REASON).is_null()

    # Duplicates: the first valid occurrence is kept, later ones name it.
    first = df.filter(ok).group_by(pk, maintain_order=True).agg(pl.col(ROW).min().alias("_first"))
    df = df.join(first, on=pk, how="left", maintain_order="left")
    dup = ok & (pl.col(ROW) != pl.col("_first")).fill_null(False)
    df = df.with_columns(
        pl.when(dup).then(pl.lit(f"duplicate {'+'.join(pk)}")).otherwise(pl.col(REASON)).alias(REASON),
        pl.when(dup).then(pl.format(f"{f}, row {{}}: {'+'.join(pk)} repeats row {{}}",
                                    pl.col(ROW), pl.col("_first")))
        .otherwise(pl.col(DETAIL)).alias(DETAIL),
    ).drop("_first")

    for fk in t.foreign_keys:
        if fk.column not in present:
            continue
        parent = status[fk.table].rename({fk.target: fk.column})
        df = df.join(parent, on=fk.column, how="left", maintain_order="left")
        has = pl.col(fk.column).is_not_null()
        orphan = ok & has & pl.col("_kept").is_null()
        of_rejected = ok & has & (pl.col("_kept") == False)  # noqa: E712 (polars expression)
        df = df.with_columns(
            pl.when(orphan).then(pl.lit(f"orphan {fk.column}"))
            .when(of_rejected).then(pl.lit(f"{fk.column} of a rejected {fk.table} row"))
            .otherwise(pl.col(REASON)).alias(REASON),
            pl.when(orphan).then(pl.format(f"{f}, row {{}}, column {fk.column}: no such id in {fk.table}",
                                           pl.col(ROW)))
            .when(of_rejected).then(pl.format(
                f"{f}, row {{}}, column {fk.column}: its {fk.table} row {{}} was rejected",
                pl.col(ROW), pl.col("_parent_row")))
            .otherwise(pl.col(DETAIL)).alias(DETAIL),
        ).drop("_kept", "_parent_row")

    if t.name == "notes" and kept_encounters is not None and "encounter_id" in present:
        # A note filed under another patient's encounter would leak text across patients.
        enc = kept_encounters.select("encounter_id", pl.col("patient_id").alias("_enc_patient"),
                                     pl.col(ROW).alias("_enc_row"))
        df = df.join(enc, on="encounter_id", how="left", maintain_order="left")
        bad = ok & (pl.col("_enc_patient") != pl.col("patient_id")).fill_null(False)
        df = df.with_columns(
            pl.when(bad).then(pl.lit("patient_id differs from its encounter's"))
            .otherwise(pl.col(REASON)).alias(REASON),
            pl.when(bad).then(pl.format(
                f"{f}, row {{}}, column patient_id: differs from the patient of its encounter (encounters row {{}})",
                pl.col(ROW), pl.col("_enc_row")))
            .otherwise(pl.col(DETAIL)).alias(DETAIL),
        ).drop("_enc_patient", "_enc_row")
    return df


def _parent_status(t: Table, df: pl.DataFrame) -> pl.DataFrame:
    """key → whether some row with it was kept, and the first row that carried it."""
    key = t.primary_key[0]
    return df.group_by(key).agg(pl.col(REASON).is_null().any().alias("_kept"),
                                pl.col(ROW).min().alias("_parent_row"))


def output_columns(t: Table, present: list[str], mapping: ExportMapping | None = None) -> list[pl.Expr]:
    out = []
    for col in t.columns:
        if col.name in present:
            out.append(typed(col, mapping).cast(col.dtype).alias(col.name))
        elif col.default is not None:
            out.append(pl.lit(col.default, col.dtype).alias(col.name))
    return out


def validate_export(export_dir: str | Path, out_dir: str | Path, *, fmt: str = "auto",
                    max_reject_rate: float | None = None, provenance: dict | None = None,
                    mapping: ExportMapping | None = None, tasks=None, file_mode: int = FILE_MODE,
                    dir_mode: int = DIR_MODE) -> dict:
    """Validate the five tables in `export_dir`; write typed tables, rejected rows and report.json.

    Raises ExportSchemaError (naming every file and column) when a table or a required
    column is missing, a file cannot be read or a core table has no rows, before anything
    is written. Returns the report; its `ok` is False when a table's rejected share exceeds
    `max_reject_rate`. `mapping` says how the site's export differs from the contract.
    With `tasks` (a remede BuildConfig) the report gains `readiness`: what each configured
    task would get from this export (`lang1core.remede.readiness`). Everything written
    holds patient data: files are `file_mode`, folders `dir_mode` (owner only by default).
    """
    export_dir, out_dir = Path(export_dir), Path(out_dir)
    mapping = mapping or ExportMapping()
    staging = out_dir / ".staging"
    try:
        with private_umask(dir_mode):
            out_dir.mkdir(parents=True, exist_ok=True)
            report = _validate(export_dir, out_dir, staging, fmt, max_reject_rate, mapping)
            if tasks is not None:
                from lang1core.remede.readiness import readiness

                report["readiness"] = readiness(out_dir, tasks)
            if provenance is not None:
                report["provenance"] = provenance
            write_json(out_dir / "report.json", report)
    finally:
        # Staged copies hold note text: never left behind, whatever went wrong.
        shutil.rmtree(staging, ignore_errors=True)
        make_private(out_dir, file_mode, dir_mode)
    return report


def _validate(export_dir: Path, out_dir: Path, staging: Path, fmt: str, max_reject_rate: float | None,
              mapping: ExportMapping) -> dict:
    sources: dict[str, TableSource] = {}
    problems: list[str] = []
    for name in TABLE_ORDER:
        try:
            sources[name] = open_table(export_dir, name, staging / name, fmt, mapping=mapping)
        except ExportSchemaError as e:
            problems += e.problems
            continue
        src = sources[name]
        if src.n_rows == 0 and name in NEED_ROWS:
            problems.append(f"{src.file.name}: a header but no rows; the export's query for {name} "
                            "returned nothing")
    if problems:
        raise ExportSchemaError(problems)

    (out_dir / "rejected").mkdir(parents=True, exist_ok=True)
    status: dict[str, pl.DataFrame] = {}
    kept_encounters = None
    tables: dict[str, dict] = {}
    for name in TABLE_ORDER:
        t, src = TABLES[name], sources[name]
        present = [c for c in t.names if c in src.header]
        ignored = [h for h in src.header if h not in t.names]
        if ignored:
            log.warning("%s: ignoring column(s) not in the contract: %s", src.file.name, ignored)
        if src.n_rows == 0:
            src.problems.append(f"{src.file.name}: a header but no rows")
        log.info("%s: checking %d rows", src.file.name, src.n_rows)
        checks = row_checks(t, src, present, mapping)
        keys = _key_columns(t, present)
        key_exprs = [typed(t.column(k), mapping).alias(k) for k in keys]
        # Pass 1: only row numbers, keys and reasons leave the stream (no text held).
        df = src.frame.select(pl.col(ROW), *key_exprs, _first_of(checks, 1).alias(REASON),
                              _first_of(checks, 2).alias(DETAIL)).collect(engine="streaming")
        df = _cross_checks(t, src, df, status, kept_encounters, present)
        if len(t.primary_key) == 1:
            status[name] = _parent_status(t, df)
        if name == "encounters":
            kept_encounters = df.filter(pl.col(REASON).is_null()).select("encounter_id", "patient_id", ROW)
        rej = df.filter(pl.col(REASON).is_not_null()).select(ROW, REASON, DETAIL)

        # Pass 2: stream the source again; kept rows typed, rejected rows as they came.
        kept_path, rej_path = out_dir / f"{name}.parquet", out_dir / "rejected" / f"{name}.parquet"
        with published_file(kept_path) as tmp:
            src.frame.join(rej.lazy(), on=ROW, how="anti", maintain_order="left").select(
                output_columns(t, present, mapping)).sink_parquet(tmp, engine="streaming")
        originals = [pl.col(c) if c in present else pl.lit(None, pl.String).alias(c) for c in t.names]
        with published_file(rej_path) as tmp:
            src.frame.join(rej.lazy(), on=ROW, how="inner", maintain_order="left").select(
                *originals, ROW, REASON, DETAIL).sink_parquet(tmp, engine="streaming")

        kept = pl.scan_parquet(kept_path).select(pl.len()).collect().item()
        n_rej = rej.height
        # Nothing may vanish: every row read is either written typed or written rejected.
        if not kept + n_rej == src.n_rows == df.height:
            raise RuntimeError(f"{name}: read {src.n_rows} != kept {kept} + rejected {n_rej}")
        reasons = rej.group_by(REASON).agg(pl.len().alias("n"), pl.col(DETAIL).head(EXAMPLES_PER_REASON))
        reasons = reasons.sort(["n", REASON], descending=[True, False])
        tables[name] = {
            "file": str(src.file), "format": src.format, "recovered": src.recovered,
            "read": src.n_rows, "kept": kept, "rejected": n_rej,
            "reasons": {r: n for r, n in zip(reasons[REASON], reasons["n"])},
            "examples": {r: list(d) for r, d in zip(reasons[REASON], reasons[DETAIL])},
            "ignored_columns": ignored, "problems": src.problems,
        }
        log.info("%s: read %d, kept %d, rejected %d %s", name, src.n_rows, kept, n_rej,
                 tables[name]["reasons"] or "")

    failures = []
    if max_reject_rate is not None:
        for name, r in tables.items():
            rate = r["rejected"] / r["read"] if r["read"] else 0.0
            if rate > max_reject_rate:
                failures.append(f"{name}: {r['rejected']} of {r['read']} rows rejected "
                                f"({rate:.1%}) > max_reject_rate {max_reject_rate:.1%}")
    return {"export_dir": str(export_dir), "ok": not failures, "failures": failures,
            "max_reject_rate": max_reject_rate, "mapping": asdict(mapping), "tables": tables}


def read_validated(validated_dir: str | Path, table: str) -> pl.LazyFrame:
    """A validated table (`{table}.parquet` written by validate_export), typed per CONTRACT.

    Later stages read through this so a stale or foreign file fails here, naming the column,
    rather than deep inside a join.
    """
    path = Path(validated_dir) / f"{table}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no validated {table} table (run validate_export first)")
    lf = pl.scan_parquet(path)
    schema = lf.collect_schema()
    t = TABLES[table]
    for col in t.columns:
        if col.name not in schema:
            if col.required or col.default is not None:
                raise ValueError(f"{path}: column {col.name!r} missing (expected {col.dtype})")
        elif schema[col.name] != col.dtype:
            raise ValueError(f"{path}: column {col.name!r} is {schema[col.name]}, expected {col.dtype}")
    return lf


def format_summary(report: dict, examples: int = 2) -> str:
    """A readable summary of a report: counts per table, top reasons with example rows."""
    lines = [f"export: {report['export_dir']}",
             f"{'table':<11} {'read':>10} {'kept':>10} {'rejected':>9}"]
    for name, r in report["tables"].items():
        lines.append(f"{name:<11} {r['read']:>10} {r['kept']:>10} {r['rejected']:>9}"
                     + ("   (recovered from malformed CSV)" if r["recovered"] else ""))
    for name, r in report["tables"].items():
        if r["problems"] or r["ignored_columns"]:
            lines.append(f"\n{name}: file problems")
            lines += [f"  {p}" for p in r["problems"]]
            if r["ignored_columns"]:
                lines.append(f"  ignored columns not in the contract: {', '.join(r['ignored_columns'])}")
        if r["reasons"]:
            lines.append(f"\n{name}: rejected rows by reason")
            for reason, n in list(r["reasons"].items())[:10]:
                lines.append(f"  {n:>8}  {reason}")
                lines += [f"            e.g. {d}" for d in r["examples"][reason][:examples]]
    if report["failures"]:
        lines.append("\nFAILED: " + "; ".join(report["failures"]))
    return "\n".join(lines)
