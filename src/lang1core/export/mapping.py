"""How a site's export differs from the contract, as configuration (`export:` keys).

A site rarely writes the contract's names and formats as they are: its note types read
"History and Physical", its columns "MRN", its dates "03/01/2021", its files cp1252 with ';'.
`ExportMapping` says how to read them, and the validator applies it before any check, so
the rest of the pipeline only ever sees the contract (`contract.py`).
"""

from __future__ import annotations

import codecs
import zoneinfo
from dataclasses import dataclass, field

from lang1core.export.contract import TABLES


class MappingError(ValueError):
    """The `export:` mapping itself is wrong (unknown table, column, zone or encoding)."""


def _key(v: str) -> str:
    # Categories are compared stripped and lowercased, as the validator normalises them.
    return str(v).strip().lower()


@dataclass(frozen=True)
class ExportMapping:
    # table -> {column name in the file: contract column name}
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    # contract categorical column -> {value in the file: contract value}; note_type's
    # mapping is `note_types` (the one nearly every site needs).
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    # strptime formats tried before ISO-8601 for date and date-time columns.
    date_format: str | None = None
    datetime_format: str | None = None
    # Time zone that offsets ("Z", "+01:00") and tz-aware parquet columns are converted to;
    # the contract's times are naive local times of this zone.
    time_zone: str = "UTC"
    encoding: str = "utf-8"
    delimiter: str = ","

    @classmethod
    def from_dict(cls, d: dict | None) -> "ExportMapping":
        """From the `export:` config section (keys other than the mapping's are ignored)."""
        d = dict(d or {})
        problems = []
        columns = {}
        for table, ren in (d.get("columns") or {}).items():
            if table not in TABLES:
                problems.append(f"export.columns: unknown table {table!r} (tables: {', '.join(TABLES)})")
                continue
            for src, dst in (ren or {}).items():
                if dst not in TABLES[table].names:
                    problems.append(f"export.columns.{table}: {src!r} maps to {dst!r}, not a column of {table} "
                                    f"({', '.join(TABLES[table].names)})")
            columns[table] = {str(k): str(v) for k, v in (ren or {}).items()}
        categorical = {c.name for t in TABLES.values() for c in t.columns if c.lowercase}
        values = {}
        if d.get("note_types"):
            values["note_type"] = d["note_types"]
        for col, m in (d.get("values") or {}).items():
            if col not in categorical:
                problems.append(f"export.values: {col!r} is not a categorical contract column "
                                f"({', '.join(sorted(categorical))})")
            values[col] = {**values.get(col, {}), **(m or {})}
        values = {c: {_key(k): _key(v) for k, v in m.items()} for c, m in values.items()}
        for k in ("date_format", "datetime_format"):
            if d.get(k) is not None and "%" not in str(d[k]):
                problems.append(f"export.{k}: {d[k]!r} is not a strptime format (e.g. '%m/%d/%Y')")
        tz = d.get("time_zone") or "UTC"
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(f"export.time_zone: {tz!r} is not an IANA time zone (e.g. 'America/New_York')")
        enc = d.get("encoding") or "utf-8"
        try:
            codecs.lookup(enc)
        except LookupError:
            problems.append(f"export.encoding: {enc!r} is not a known encoding (e.g. 'utf-8', 'cp1252')")
        delim = d.get("delimiter") or ","
        if len(delim) != 1 or delim in '"\r\n':
            problems.append(f"export.delimiter: {delim!r} must be one character other than a quote or newline")
        if problems:
            raise MappingError("; ".join(problems))
        return cls(columns=columns, values=values, date_format=d.get("date_format"),
                   datetime_format=d.get("datetime_format"), time_zone=tz, encoding=enc, delimiter=delim)

    @property
    def utf8(self) -> bool:
        return codecs.lookup(self.encoding).name == "utf-8"

    def rename(self, table: str, header: list[str]) -> list[str]:
        ren = self.columns.get(table, {})
        return [ren.get(h, h) for h in header]
