"""Finding an entity's files in a drop, and reading them into raw rows.

Every raw row keeps where it came from (`_source_file`, `_source_line`). Line numbers are
physical lines, counting the header as line 1. DuckDB reads a file fast when each record
is one line; a file with multi-line or ragged records is read with Python's csv module,
which knows exact line numbers, and a ragged record becomes a raw row whose
`_parse_error` says what is wrong (quarantined downstream, never dropped).

Nothing read from a file becomes SQL text: column names are checked against a safe set and
double-quoted, values are data. Both CSV paths give the same raw values (an empty field is
NULL) and accept fields up to MAX_FIELD_BYTES.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from contract import ENTITIES, LINEAGE_COLUMNS, Entity
from contract.sql import identifier, literal

FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Longest line (DuckDB) or field (Python csv) a reader accepts: a long review loads.
MAX_FIELD_BYTES = 64 * 1024 * 1024
# Column names a file may use: letters (any script), digits, `_`, space, `.` and `-`, starting
# with a letter, digit or `_`; at most 128 characters. Quotes, `;`, `(` never reach SQL.
SAFE_COLUMN = re.compile(r"\w[\w .\-]{0,127}")
# Names the loader writes itself: a file column of that name would overwrite lineage.
RESERVED_COLUMNS = frozenset({*LINEAGE_COLUMNS, "_raw_json"})


class DropError(ValueError):
    """A file of the drop cannot be loaded at all (names the file and the problem)."""


@dataclass(frozen=True)
class DropFile:
    path: Path
    entity: str
    fmt: str


def entity_files(drop: Path, entity: str) -> list[DropFile]:
    """All files of one entity: names starting with the entity name, in name order.

    `orders.csv`, `orders-0001.csv` and `orders_2026.parquet` belong to `orders`; the
    longest matching entity name wins so `campaign_members.csv` is not a `campaigns` file.
    """
    files = []
    for path in sorted(drop.iterdir()) if drop.is_dir() else []:
        if not path.is_file() or path.name.startswith(("_", ".")):
            continue
        if _owner(path.name) != entity:
            continue
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None or (fmt == "jsonl" and entity != "events"):
            raise DropError(f"{path}: unsupported file type {path.suffix!r} for entity "
                            f"{entity!r}; expected .csv or .parquet"
                            + (" or .jsonl" if entity == "events" else ""))
        files.append(DropFile(path, entity, fmt))
    return files


def _owner(filename: str) -> str | None:
    stem = filename.lower()
    matches = [e for e in ENTITIES if re.match(rf"{re.escape(e)}(?![a-z])", stem)]
    return max(matches, key=len) if matches else None


def check_columns(path: Path, columns: list[str]) -> None:
    """Raise DropError naming the file and the header for an unsafe, reserved or repeated
    column name (DuckDB names are case-insensitive, so `Email` repeats `email`)."""
    seen: dict[str, str] = {}
    for number, column in enumerate(columns, start=1):
        if not SAFE_COLUMN.fullmatch(column):
            raise DropError(f"{path}: line 1: header {column!r} (column {number}) is not a safe "
                            f"column name: use letters, digits, '_', space, '.' or '-' (at most "
                            f"128, not starting with space, '.' or '-')")
        if column.lower() in RESERVED_COLUMNS:
            raise DropError(f"{path}: line 1: header {column!r} (column {number}) is reserved "
                            f"for the loader's own columns ({', '.join(sorted(RESERVED_COLUMNS))})"
                            f"; rename it")
        if column.lower() in seen:
            raise DropError(f"{path}: line 1: header {column!r} (column {number}) repeats "
                            f"column {seen[column.lower()]!r}; every column needs its own name")
        seen[column.lower()] = column


def relation_sql(con: duckdb.DuckDBPyConnection, file: DropFile,
                 entity: Entity) -> tuple[str, list[str]]:
    """SQL selecting the file's rows as text columns plus `_source_line` and `_parse_error`,
    and the file's own column names.

    Raises DropError for unreadable files and files missing a required column.
    """
    path_sql = literal(str(file.path))  # a SQL string literal
    try:
        if file.fmt == "parquet":
            sql = (f"select * exclude (file_row_number), cast(file_row_number + 1 as bigint) "
                   f"as _source_line, cast(null as varchar) as _parse_error "
                   f"from read_parquet({path_sql}, file_row_number = true)")
            columns = _columns(con, f"select * from read_parquet({path_sql})", file)
            check_columns(file.path, columns)
            sql = _as_text(sql, columns)
        elif file.fmt == "jsonl":
            sql, columns = _jsonl_sql(path_sql, entity)
        else:
            sql, columns = _csv_sql(con, path_sql, file)
    except (csv.Error, duckdb.Error) as exc:  # e.g. a field or line over the readers' limits
        raise DropError(f"{file.path}: cannot be read as {file.fmt}: {reader_error(exc)}") from exc
    contract = {c.lower(): c for c in entity.columns}
    for number, column in enumerate(columns, start=1):
        name = contract.get(column.lower())
        if name is not None and name != column:  # would load as an extra column, the
            raise DropError(                     # contract's own left empty
                f"{file.path}: line 1: header {column!r} (column {number}) differs from the "
                f"contract column {name!r} only in case; rename it to {name!r}")
    missing = sorted(entity.required - set(columns))
    if missing:
        raise DropError(f"{file.path}: missing required column(s) {', '.join(missing)} "
                        f"for entity {entity.name!r}; found {', '.join(columns) or 'none'}")
    return sql, columns


def _columns(con: duckdb.DuckDBPyConnection, sql: str, file: DropFile) -> list[str]:
    try:
        return [d[0] for d in con.execute(f"describe {sql}").fetchall()]
    except duckdb.Error as exc:
        raise DropError(f"{file.path}: cannot be read as {file.fmt}: {reader_error(exc)}") from exc


def _as_text(sql: str, columns: list[str]) -> str:
    casts = ", ".join(f"cast({identifier(c)} as varchar) as {identifier(c)}"
                      for c in columns)
    return f"select {casts}, _source_line, _parse_error from ({sql})"


def _csv_sql(con: duckdb.DuckDBPyConnection, path_sql: str,
             file: DropFile) -> tuple[str, list[str]]:
    read = (f"read_csv({path_sql}, all_varchar = true, header = true, auto_detect = true, "
            f"delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            f"max_line_size = {MAX_FIELD_BYTES})")
    columns = _csv_header(file)
    check_columns(file.path, columns)
    lines = _physical_lines(con, path_sql)
    try:
        records = con.execute(f"select count(*) from {read}").fetchall()[0][0]
    except duckdb.Error:
        records = -1  # ragged or otherwise irregular: take the exact path
    if records == lines - 1:
        sql = (f"select *, cast(row_number() over () + 1 as bigint) as _source_line, "
               f"cast(null as varchar) as _parse_error from {read}")
        return sql, columns
    frame = read_csv_exact(file.path, columns)
    name = f"_csv_exact_{abs(hash(path_sql))}"
    con.register(name, frame)
    return f"select * from {name}", columns


def _csv_header(file: DropFile) -> list[str]:
    try:
        with file.path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError as exc:
        raise DropError(f"{file.path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not header:
        raise DropError(f"{file.path}: empty file, expected a header row")
    return [h.strip() for h in header]


def _physical_lines(con: duckdb.DuckDBPyConnection, path_sql: str) -> int:
    return con.execute(
        f"select count(*) from read_csv({path_sql}, columns = {{'l': 'VARCHAR'}}, header = false,"
        f" delim = chr(1), quote = '', escape = '', auto_detect = false,"
        f" strict_mode = false, max_line_size = {MAX_FIELD_BYTES})").fetchall()[0][0]


def read_csv_exact(path: Path, columns: list[str]) -> pd.DataFrame:
    """Read a CSV with exact physical line numbers; ragged records keep their raw text.

    An empty field is None, as DuckDB's reader gives NULL: the same rows read by either
    path are the same raw values (so cross-file exact duplicates stay duplicates).
    """
    rows, lines, errors = [], [], []
    width = len(columns)
    csv.field_size_limit(MAX_FIELD_BYTES)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        start = reader.line_num + 1
        try:
            for record in reader:
                if not record:
                    start = reader.line_num + 1
                    continue
                record = [field if field != "" else None for field in record]
                if len(record) == width:
                    rows.append(record)
                    errors.append(None)
                else:
                    rows.append((record + [None] * width)[:width])
                    errors.append(f"malformed record: expected {width} fields, found "
                                  f"{len(record)} ({','.join(f or '' for f in record)[:200]!r})")
                lines.append(start)
                start = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise DropError(f"{path}: not UTF-8 text after line {reader.line_num} "
                            f"({exc.reason})") from exc
        except csv.Error as exc:
            raise DropError(f"{path}: cannot be read as csv: line {start}: {exc} (fields are "
                            f"limited to {MAX_FIELD_BYTES:,} bytes)") from exc
    frame = pd.DataFrame(rows, columns=columns, dtype="string")
    frame["_source_line"] = pd.array(lines, dtype="int64")
    frame["_parse_error"] = pd.array(errors, dtype="string")
    return frame


def _jsonl_sql(path_sql: str, entity: Entity) -> tuple[str, list[str]]:
    """JSON Lines, read once: each line kept as text (`_raw_json`, so extra keys are kept)
    with its physical line number, and the contract's keys as columns. A blank line (empty
    or spaces only) is no record; a line that is not a JSON object is a parse error with
    empty values, not a crash.

    The keys are typed from each line's text by `json_transform`, the transformation DuckDB's
    JSON reader applies to a file (same values: numbers and nested values as JSON text, the
    first of two equal keys), without reading the file a second time and joining by
    position; measured in docs/benchmarks.md. Paths and names come from the contract,
    never from the file.
    """
    numbered = (f"select line, cast(row_number() over () as bigint) as _source_line from "
                f"read_csv({path_sql}, columns = {{'line': 'VARCHAR'}}, header = false, "
                f"delim = chr(1), quote = '', escape = '', auto_detect = false, "
                f"strict_mode = false, max_line_size = {MAX_FIELD_BYTES})")
    # Numbered before the blank lines are left out, so numbers stay physical line numbers.
    lines = f"select line, _source_line from ({numbered}) where trim(line) <> ''"
    # A valid line is tested for an object only then: json_type raises on invalid JSON.
    checked = (f"select line, _source_line, case when json_valid(line) then json_type(line) = "
               f"'OBJECT' else false end as _is_object from ({lines})")
    structure = literal(json.dumps({c: "VARCHAR" for c in entity.columns}))
    values = (f"select line, _source_line, _is_object, json_transform(case when _is_object "
              f"then line end, {structure}) as _values from ({checked})")
    columns = [*entity.columns, "_raw_json"]
    fields = ", ".join(f"_values[{literal(c)}] as {identifier(c)}"
                       for c in entity.columns)
    reason = "'malformed record: not a JSON object (' || left(line, 200) || ')'"
    sql = (f"select {fields}, line as _raw_json, _source_line, case when not _is_object then "
           f"{reason} end as _parse_error from ({values})")
    return sql, columns


def reader_error(exc: Exception) -> str:
    """A reader's error on one line: its first line, the reason and the hint, without the
    offending line's text (which may be megabytes) or the option dump."""
    lines = [line.strip() for line in str(exc).strip().splitlines()]
    parts = lines[:1]
    for line in lines[1:]:
        if line.startswith(("file =", "LINE ")):
            break
        if line and not line.startswith("Original Line"):
            parts.append(line[:300])
    return "; ".join(parts)
