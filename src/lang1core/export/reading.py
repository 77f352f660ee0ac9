"""Read one export table as strings, row-numbered, without crashing on bad input.

Every column is read as a string first; the validator types it afterwards, so one bad
value rejects one row instead of failing the file. CSV files are read by polars, lazily,
after a structural pass with Python's `csv` module in strict mode: polars can silently
merge two records across a broken quote, and the strict pass catches that. When the pass
finds broken quoting, the file is read by a line-level recovery reader instead, which
keeps every record it can parse and returns the broken ones as rows with a reason, so one
bad quote loses one row, not the file.

Each returned frame has the table's header columns (String), `row` (1-based data row, i.e.
record number after the header) and `_broken` (why the record could not be parsed, else null).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import io
import logging
import shutil
import tempfile
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from lang1core.export.contract import DATE, DATETIME, INT, STR, TABLES
from lang1core.export.mapping import ExportMapping

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".csv.gz", ".parquet")
ROW = "row"
BROKEN = "_broken"
# A quoted field may span lines (notes do); a record still open after this many bytes is
# taken to be a quote that never closes.
MAX_RECORD_BYTES = 64 << 20
# Rows per batch written by the recovery reader (bounded memory).
BATCH_ROWS = 20_000
# Python's csv module refuses fields above 128 KiB by default; notes can be megabytes.
csv.field_size_limit(1 << 30)


class ExportSchemaError(ValueError):
    """The export cannot be used at all (missing table, missing or misnamed columns)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("export unusable:\n  " + "\n  ".join(problems))


# --- locating files -------------------------------------------------------------------------

def find_table_file(path_or_dir: str | Path, table: str, fmt: str = "auto") -> Path:
    """The file holding `table`: `{table}.csv`, `.csv.gz` or `.parquet` in a folder (or the path itself)."""
    p = Path(path_or_dir)
    if p.is_file():
        return p
    suffixes = SUFFIXES if fmt == "auto" else tuple(s for s in SUFFIXES if s.startswith("." + fmt))
    found = [p / f"{table}{s}" for s in suffixes if (p / f"{table}{s}").is_file()]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise ExportSchemaError([
            f"{table}: several files in {p}: {', '.join(f.name for f in found)}; "
            "keep one or choose the format (export.format / --format)"
        ])
    names = sorted(f.name for f in p.iterdir()) if p.is_dir() else []
    close = difflib.get_close_matches(f"{table}.csv", names, n=3, cutoff=0.8)
    hint = f" (close: {', '.join(close)})" if close else ""
    where = p if p.is_dir() else f"{p} (no such folder)"
    raise ExportSchemaError([
        f"{table}: no {' / '.join(table + s for s in suffixes)} in {where}{hint}"
    ])


def check_columns(file: Path, header: list[str], table: str) -> list[str]:
    """Problems with a header: missing required columns, with the close names found."""
    problems = []
    t = TABLES[table]
    if len(header) == 1:
        for sep, name in ((";", "';'"), ("\t", "a tab"), ("|", "'|'")):
            if sep in header[0]:
                return [f"{file.name}: the header is one column holding {name}; the file seems "
                        f"{name}-delimited — set export.delimiter (--delimiter) to it"]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(f"{file.name}: duplicate column name(s) {dupes}")
    for name in t.required_names:
        if name in header:
            continue
        lowered = {h.lower(): h for h in header}
        close = difflib.get_close_matches(name, header, n=2, cutoff=0.6)
        if name in lowered and lowered[name] not in close:
            close.insert(0, lowered[name])
        hint = (f"; found {', '.join(repr(c) for c in close)} — rename it or map it in "
                f"export.columns.{table}") if close else ""
        problems.append(
            f"{file.name}: missing column {name!r}{hint} "
            f"(expected columns: {', '.join(t.required_names)})"
        )
    return problems


# --- decoding -------------------------------------------------------------------------------

class _ByteCounter:
    """A codecs error handler that replaces undecodable bytes with U+FFFD and counts them."""

    def __init__(self):
        self.count = 0
        self.name = f"lang1_count_{id(self)}"
        codecs.register_error(self.name, self)

    def __call__(self, err: UnicodeDecodeError):
        self.count += err.end - err.start
        return "\ufffd", err.end


def _open_text(path: Path, errors: str) -> io.TextIOWrapper:
    # newline="" hands line endings inside quoted fields to the csv module untouched.
    return open(path, encoding="utf-8-sig", errors=errors, newline="")


# --- the table source -----------------------------------------------------------------------

@dataclass
class TableSource:
    """One table's file, opened as strings."""

    table: str
    file: Path
    format: str  # csv | csv.gz | parquet
    header: list[str]
    frame: pl.LazyFrame  # header columns (String) + row + _broken
    n_rows: int  # records read (the `read` count of the report)
    invalid_utf8_bytes: int = 0
    # Human-readable file-level problems (broken quoting, with lines), for the report.
    problems: list[str] = field(default_factory=list)
    recovered: bool = False  # True when the recovery reader was used


def open_table(path_or_dir: str | Path, table: str, staging: str | Path | None = None,
               fmt: str = "auto", check: bool = True, mapping: ExportMapping | None = None) -> TableSource:
    """Locate and open `table` as strings; raise ExportSchemaError on missing columns or a
    file that cannot be read at all (corrupt parquet, truncated gzip, nested columns).

    `staging` is a scratch folder for decompressed or recovered copies (a temporary folder
    when None). `check=False` skips the contract's column check (for non-contract tables).
    `mapping` renames columns and sets the encoding, delimiter and time zone.
    """
    mapping = mapping or ExportMapping()
    file = find_table_file(path_or_dir, table, fmt)
    staging = Path(staging) if staging is not None else Path(tempfile.mkdtemp(prefix="lang1-"))
    staging.mkdir(parents=True, exist_ok=True)
    if file.name.endswith(".parquet"):
        src = _open_parquet(file, table, mapping)
    else:
        src = _open_csv(file, table, staging, mapping)
    if check:
        problems = check_columns(file, src.header, table)
        if problems:
            raise ExportSchemaError(problems)
    return src


def read_table(path_or_dir: str | Path, table: str, staging: str | Path | None = None,
               fmt: str = "auto") -> pl.LazyFrame:
    """A table of the export as a LazyFrame of strings with `row` and `_broken` columns."""
    return open_table(path_or_dir, table, staging, fmt).frame


def _as_string(name: str, dtype: pl.DataType, contract: str | None, mapping: ExportMapping,
               file: Path) -> tuple[pl.Expr, str | None]:
    """A parquet column as the validator's string, and a hint when its type looks wrong."""
    e = pl.col(name)
    col = TABLES[contract].column(name) if contract and name in TABLES[contract].names else None
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        # Instants become the configured zone's local time, as the contract's times are.
        e = e.dt.convert_time_zone(mapping.time_zone).dt.replace_time_zone(None)
    hint = None
    if col is not None and dtype.is_float() and col.dtype in (STR, INT):
        hint = (f"{file.name}: column {name} is {dtype} in parquet, so values read like '123.0'; "
                "export it as an integer or string")
    elif col is not None and dtype.is_integer() and col.dtype in (DATE, DATETIME):
        hint = (f"{file.name}: column {name} is {dtype} in parquet (epoch numbers?); export it as a "
                "date/timestamp or an ISO-8601 string")
    return e.cast(pl.String), hint


def _open_parquet(file: Path, table: str, mapping: ExportMapping) -> TableSource:
    try:
        schema = pq.read_schema(file)
        lf = pl.scan_parquet(file)
        pschema = lf.collect_schema()
        n = lf.select(pl.len()).collect().item()
    except (OSError, pa.ArrowException, pl.exceptions.PolarsError) as e:
        raise ExportSchemaError([f"{file.name}: not a readable parquet file ({str(e).splitlines()[0][:200]}); "
                                 "export it again or as .csv"]) from None
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise ExportSchemaError([f"{file.name}: column(s) {nested} hold lists or structs; the contract needs "
                                 "one plain value per row (explode or join them in the export's SQL)"])
    header = mapping.rename(table, list(pschema.names()))
    contract = table if table in TABLES else None
    exprs, problems = [], []
    for old, new in zip(pschema.names(), header):
        e, hint = _as_string(new, pschema[old], contract, mapping, file)
        exprs.append(e.alias(new))
        if hint:
            problems.append(hint)
    lf = lf.rename(dict(zip(pschema.names(), header))) if header != list(pschema.names()) else lf
    # Typed parquet values become strings too, so the validator parses every source alike
    # (a Datetime casts to "YYYY-MM-DD HH:MM:SS.ffffff", which the parser accepts).
    lf = lf.select(exprs).with_row_index(ROW, offset=1).with_columns(
        pl.col(ROW).cast(pl.Int64), pl.lit(None, pl.String).alias(BROKEN)
    )
    return TableSource(table, file, "parquet", header, lf, n, problems=problems)


def _stage_plain(file: Path, table: str, staging: Path, mapping: ExportMapping) -> tuple[Path, int]:
    """The CSV as plain UTF-8 (decompressed, transcoded from `mapping.encoding`), and the
    number of bytes the source encoding could not decode."""
    path = file
    if file.name.endswith(".gz"):
        # polars reads gzip only eagerly, in memory; a decompressed copy keeps it lazy.
        path = staging / f"{table}.csv"
        try:
            with gzip.open(file, "rb") as fin, open(path, "wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
        except (EOFError, OSError, zlib.error) as e:
            raise ExportSchemaError([f"{file.name}: the gzip file is truncated or corrupt ({e}); "
                                     "copy or compress it again"]) from None
    if mapping.utf8:
        return path, 0
    counter = _ByteCounter()
    out = staging / f"{table}.utf8.csv"
    with open(path, encoding=mapping.encoding, errors=counter.name, newline="") as fin, \
            open(out, "w", encoding="utf-8", newline="") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
    return out, counter.count


def _open_csv(file: Path, table: str, staging: Path, mapping: ExportMapping) -> TableSource:
    fmt = "csv.gz" if file.name.endswith(".gz") else "csv"
    path, undecodable = _stage_plain(file, table, staging, mapping)
    scan = prescan_csv(path, mapping.delimiter, file.name)
    header = mapping.rename(table, scan.header)
    problems = [f"{file.name}: {p}" for p in scan.problems]
    bad_bytes = scan.invalid_utf8_bytes + undecodable
    if scan.invalid_utf8_bytes:
        problems.append(f"{file.name}: {scan.invalid_utf8_bytes} byte(s) that are not UTF-8 (rows holding "
                        "them are rejected); a file written on Windows or by Excel is often cp1252 — "
                        "set export.encoding (--encoding) to it")
    if undecodable:
        problems.append(f"{file.name}: {undecodable} byte(s) that are not {mapping.encoding} "
                        "(rows holding them are rejected)")
    if not scan.problems:
        lf = pl.scan_csv(
            path, infer_schema=False, has_header=True, new_columns=header, separator=mapping.delimiter,
            encoding="utf8-lossy" if scan.invalid_utf8_bytes else "utf8",
            row_index_name=ROW, row_index_offset=1, quote_char='"',
        ).with_columns(pl.col(ROW).cast(pl.Int64), pl.lit(None, pl.String).alias(BROKEN))
        try:
            n = lf.select(pl.len()).collect().item()
        except pl.exceptions.PolarsError as e:  # the strict pass missed something polars refuses
            n = -1
            # The type only: polars' message may quote the record.
            problems.append(f"{file.name}: polars could not read it ({type(e).__name__})")
        if n == scan.n_records:
            return TableSource(table, file, fmt, header, lf, n, bad_bytes, problems)
        if n >= 0:
            problems.append(f"{file.name}: polars read {n} records, the strict reader "
                            f"{scan.n_records}; using the strict reader")
    log.warning("%s: malformed CSV; recovering row by row (%s)", file.name,
                "; ".join(scan.problems[:3]) or "record count mismatch")
    staged = staging / f"{table}.recovered.parquet"
    n, broken_lines = recover_csv(path, header, staged, mapping.delimiter)
    problems += [f"{file.name}: line {ln}: {why}" for ln, why in broken_lines[:20]]
    if len(broken_lines) > 20:
        problems.append(f"{file.name}: ... {len(broken_lines) - 20} more broken record(s)")
    lf = pl.scan_parquet(staged)
    return TableSource(table, file, fmt, header, lf, n, bad_bytes, problems, recovered=True)


# --- the strict structural pass -------------------------------------------------------------

@dataclass
class Prescan:
    header: list[str]
    n_records: int
    invalid_utf8_bytes: int
    problems: list[str]


def prescan_csv(path: Path, delimiter: str = ",", name: str | None = None) -> Prescan:
    """Parse the whole file with the strict csv reader, keeping only counts (bounded memory).
    `name` is the source file's name for messages (`path` may be a staged copy)."""
    counter = _ByteCounter()
    problems: list[str] = []
    n = 0
    name = name or path.name
    with _open_text(path, counter.name) as f:
        reader = csv.reader(f, strict=True, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ExportSchemaError([f"{name}: empty file (no header)"]) from None
        except csv.Error as e:
            raise ExportSchemaError([f"{name}: unreadable header ({e})"]) from None
        while True:
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                problems.append(f"line {reader.line_num}: malformed quoting ({e})")
                break
            if not rec:  # blank line: polars skips it too
                continue
            n += 1
            if len(rec) != len(header):
                problems.append(f"line {reader.line_num}: {len(rec)} fields, header has {len(header)}")
                break
    return Prescan(header, n, counter.count, problems)


# --- the recovery reader --------------------------------------------------------------------

def _parse_one(text: str, ncols: int, delimiter: str = ",") -> tuple[list[str] | None, str | None]:
    """Parse `text` as exactly one record of `ncols` fields; else (None, why)."""
    try:
        recs = list(csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter))
    except csv.Error as e:
        return None, f"malformed quoting ({e})"
    recs = [r for r in recs if r]
    if len(recs) != 1:
        return None, f"{len(recs)} records where one was expected (unbalanced quote)"
    if len(recs[0]) != ncols:
        return None, f"{len(recs[0])} fields, header has {ncols}"
    return recs[0], None


def iter_recovered(path: Path, ncols: int, max_record_bytes: int = MAX_RECORD_BYTES, delimiter: str = ","):
    """Yield (line, fields | None, why | None) for every record after the header.

    Lines are gathered into a record until its quotes balance. A gathered record that does
    not parse as one record of `ncols` fields is broken at its first line: that line is
    returned as broken and the following lines are read again as fresh records, so a quote
    that never closes costs one line, not the rest of the file.
    """
    counter = _ByteCounter()
    with _open_text(path, counter.name) as f:
        lines = iter(enumerate(f, start=1))
        next(lines, None)  # header
        pending: deque[tuple[int, str]] = deque()
        buf: list[tuple[int, str]] = []
        quotes = size = 0

        def refeed_after_first():
            # Report the first line broken; read the rest again from the queue.
            nonlocal buf, quotes, size
            first, rest = buf[0], buf[1:]
            pending.extendleft(reversed(rest))
            buf, quotes, size = [], 0, 0
            return first

        while True:
            item = pending.popleft() if pending else next(lines, None)
            if item is None:
                if not buf:
                    return
                ln, text = refeed_after_first()
                yield ln, None, "quote never closed before the end of the file"
                continue
            ln, text = item
            if not buf and not text.strip():
                continue  # blank line between records
            buf.append(item)
            quotes += text.count('"')
            size += len(text)
            if quotes % 2:
                if len(buf) == 1:
                    # A stray quote inside an unquoted field ("5" tall") is legal on its own line.
                    fields, _ = _parse_one(text, ncols, delimiter)
                    if fields is not None:
                        buf, quotes, size = [], 0, 0
                        yield ln, fields, None
                        continue
                if size > max_record_bytes:
                    ln0, _ = refeed_after_first()
                    yield ln0, None, f"quote still open after {max_record_bytes} bytes"
                continue
            fields, why = _parse_one("".join(t for _, t in buf), ncols, delimiter)
            if fields is not None:
                ln0 = buf[0][0]
                buf, quotes, size = [], 0, 0
                yield ln0, fields, None
            elif len(buf) > 1:
                ln0, _ = refeed_after_first()
                yield ln0, None, why
            else:
                buf, quotes, size = [], 0, 0
                yield ln, None, why


def recover_csv(path: Path, header: list[str], out: Path, delimiter: str = ",") -> tuple[int, list[tuple[int, str]]]:
    """Write every record of a malformed CSV to `out` (strings + row + _broken), in batches."""
    ncols = len(header)
    schema = pa.schema([(h, pa.string()) for h in header] + [(ROW, pa.int64()), (BROKEN, pa.string())])
    broken: list[tuple[int, str]] = []
    n = 0
    cols: list[list] = [[] for _ in range(ncols + 2)]

    def flush(writer):
        writer.write_table(pa.table(cols, schema=schema))
        for c in cols:
            c.clear()

    with pq.ParquetWriter(out, schema) as writer:
        for ln, fields, why in iter_recovered(path, ncols, delimiter=delimiter):
            n += 1
            if fields is None:
                broken.append((ln, why))
                fields = [None] * ncols
                why = f"line {ln}: {why}"
            for c, v in zip(cols, fields):
                c.append(v)
            cols[ncols].append(n)
            cols[ncols + 1].append(why)
            if len(cols[ncols]) >= BATCH_ROWS:
                flush(writer)
        flush(writer)
    return n, broken
