"""General (non-clinical) text sources: files, globs, or the Python standard library's docs.

The study mixed its clinical notes with SlimPajama (627B tokens). A source here is a named list
of entries, each a file or glob of `.txt` (one document per file), `.jsonl` or `.jsonl.zst`
(SlimPajama's layout: one JSON object per line, text in field `text`) or `.parquet` (column
`text`); or the word `stdlib`, the embedded default: English docstrings of the installed Python
standard library (and the reference topics in `pydoc_data`), read with `ast` and never imported,
so it works offline on any machine. Every document passes the same cleaning as the notes
(no duplicate removal: web corpora such as SlimPajama arrive deduplicated); drops are counted by
reason and source. Output is written in batches, so memory stays bounded.
"""

from __future__ import annotations

import ast
import glob
import io
import json
import logging
import sysconfig
from collections import Counter
from pathlib import Path
from typing import Iterator

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from lang1core.corpus import text as T
from lang1core.publish import published_file

log = logging.getLogger(__name__)

STDLIB = "stdlib"
# Folders of the standard library that hold tests, third-party packages or non-English data.
STDLIB_SKIP = {"test", "tests", "site-packages", "dist-packages", "idlelib", "lib2to3", "turtledemo",
               "__pycache__", "ensurepip", "encodings", "__phello__", "config-3", "lib-dynload"}
GENERAL_SCHEMA = pa.schema([("doc_id", pa.string()), ("source", pa.string()), ("origin", pa.string()),
                            ("n_words", pa.int64()), ("text", pa.string())])


def stdlib_documents(root: str | Path | None = None) -> Iterator[tuple[str, str]]:
    """(origin, text): one document per stdlib module (its docstrings joined), plus pydoc topics."""
    root = Path(root or sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.rglob("*.py")
                   if not (set(p.relative_to(root).parts[:-1]) & STDLIB_SKIP)
                   and not any(part.startswith("config-") for part in p.relative_to(root).parts))
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, UnicodeDecodeError, MemoryError):
            continue
        if rel == "pydoc_data/topics.py":  # the language reference, as a dict of strings
            for node in ast.walk(tree):
                if isinstance(node, ast.Dict):
                    for k, v in zip(node.keys, node.values):
                        if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and isinstance(v.value, str):
                            yield f"stdlib:{rel}:{k.value}", v.value
            continue
        docs = []
        for node in [tree, *ast.walk(tree)]:
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and (node is tree or not isinstance(node, ast.Module)):
                    docs.append(doc)
        # Module docstring first, then classes and functions in source order; de-duplicated.
        seen, parts = set(), []
        for d in docs:
            if d not in seen:
                seen.add(d)
                parts.append(d)
        if parts:
            yield f"stdlib:{rel}", "\n\n".join(parts)


def source_files(sources: dict[str, list[str]]) -> list[str]:
    """Every file the sources' entries name (the stdlib aside), so that a changed file rebuilds
    general.parquet; an entry that matches nothing is reported when the sources are read."""
    return sorted(p for entries in sources.values() for e in entries if e != STDLIB
                  for p in glob.glob(e, recursive=True))


def _expand(entry: str) -> list[Path]:
    paths = sorted(Path(p) for p in glob.glob(entry, recursive=True))
    if not paths:
        raise FileNotFoundError(f"general text entry {entry!r} matches no file")
    return paths


def file_documents(path: Path, text_field: str = "text") -> Iterator[tuple[str, str]]:
    name = path.name
    if name.endswith(".txt"):
        yield str(path), path.read_text(encoding="utf-8", errors="replace")
    elif name.endswith(".jsonl") or name.endswith(".jsonl.zst"):
        if name.endswith(".zst"):
            import zstandard

            raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"))
        else:
            raw = open(path, "rb")
        with io.TextIOWrapper(raw, encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(f"{path}, line {i}: not JSON ({e.msg})") from None
                if not isinstance(obj, dict) or text_field not in obj:
                    raise ValueError(f"{path}, line {i}: no field {text_field!r}")
                yield f"{path}:{i}", obj[text_field] if isinstance(obj[text_field], str) else ""
    elif name.endswith(".parquet"):
        pf = pq.ParquetFile(path)
        if text_field not in pf.schema_arrow.names:
            raise ValueError(f"{path}: no column {text_field!r} (has {pf.schema_arrow.names})")
        i = 0
        for batch in pf.iter_batches(columns=[text_field], batch_size=4096):
            for t in batch.column(0).to_pylist():
                i += 1
                yield f"{path}:{i}", t or ""
    else:
        raise ValueError(f"{path}: general text must be .txt, .jsonl, .jsonl.zst or .parquet")


def source_documents(entries: list[str], text_field: str = "text") -> Iterator[tuple[str, str]]:
    for entry in entries:
        if entry == STDLIB:
            yield from stdlib_documents()
        else:
            for path in _expand(entry):
                yield from file_documents(path, text_field)


def build_general(sources: dict[str, list[str]], out_path: str | Path, min_words: int = 10,
                  max_documents: int | None = None, text_field: str = "text", batch_docs: int = 4096) -> dict:
    """Read, clean and write every general source to `out_path`; return counts by source and reason."""
    out_path = Path(out_path)
    stats: dict = {"min_words": min_words, "max_documents": max_documents, "sources": {}}
    with published_file(out_path) as tmp, pq.ParquetWriter(tmp, GENERAL_SCHEMA) as writer:
        for name in sorted(sources):
            reasons: Counter = Counter()
            read = kept = chars = words = 0

            def flush(batch):
                nonlocal kept, chars, words
                df = (pl.DataFrame(batch, schema={"origin": pl.String, "_raw": pl.String}, orient="row")
                      .with_columns(T.clean_text(pl.col("_raw")).alias("text"))
                      .with_columns(T.word_count(pl.col("text")).fill_null(0).alias("n_words"))
                      .with_columns(T.drop_reason(pl.col("_raw"), pl.col("text"), pl.col("n_words"), min_words,
                                                  ()).alias("reason")))
                reasons.update(dict(df.filter(pl.col("reason").is_not_null())["reason"].value_counts().iter_rows()))
                df = df.filter(pl.col("reason").is_null())
                start = kept
                doc_id = pl.lit(f"{name}:") + (pl.int_range(pl.len()) + start).cast(pl.String)
                df = df.with_columns(pl.lit(name).alias("source"), doc_id.alias("doc_id"))
                kept += df.height
                chars += int(df["text"].str.len_bytes().sum() or 0)
                words += int(df["n_words"].sum() or 0)
                writer.write_table(df.select(GENERAL_SCHEMA.names).to_arrow().cast(GENERAL_SCHEMA))

            batch = []
            for origin, text in source_documents(sources[name], text_field):
                if max_documents is not None and read >= max_documents:
                    break
                read += 1
                batch.append((origin, text))
                if len(batch) >= batch_docs:
                    flush(batch)
                    batch = []
            if batch:
                flush(batch)
            if kept == 0:
                raise ValueError(f"general source {name!r} ({sources[name]}) kept no document "
                                 f"({read} read; dropped {dict(reasons)})")
            stats["sources"][name] = {"entries": list(sources[name]), "read": read, "kept": kept,
                                      "dropped": dict(sorted(reasons.items())), "chars": chars, "words": words}
            assert read == kept + sum(reasons.values())
            log.info("general source %s: %d documents read, %d kept, %d chars", name, read, kept, chars)
    return stats
