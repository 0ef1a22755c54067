"""Land one entity's files, as they are, in the warehouse's `raw` schema."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from contract import ENTITIES, LINEAGE_COLUMNS, Entity
from contract.sql import identifier, literal

from .. import ledger
from .files import DropError, entity_files, reader_error, relation_sql

__all__ = ["DropError", "LoadResult", "load_entity", "raw_columns"]


@dataclass
class LoadResult:
    entity: str
    rows: int
    files: dict[str, int] = field(default_factory=dict)  # file name -> rows
    parse_errors: int = 0
    extra_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0
    read_files: list[str] = field(default_factory=list)  # files (re)read by this load
    removed_files: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.read_files or self.removed_files)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def fingerprint(path: Path) -> str:
    """Size and modification time: a file rewritten in place gets a new fingerprint."""
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def load_entity(con: duckdb.DuckDBPyConnection, drop: Path, entity: Entity | str,
                load_id: str) -> LoadResult:
    """Make `raw.<entity>` hold every row of the entity's files in the drop.

    Files already loaded with the same fingerprint (size, mtime) are not read again: when
    a drop gains or replaces files, only those are read, their old rows deleted and the
    new ones appended; otherwise the table is replaced. Either way the table ends up
    holding exactly the drop's current files.
    Text stays text (`00001` stays `00001`); contract columns absent from the files are
    added empty so staging can rely on them; extra columns are kept. A missing optional
    entity gives an empty table. Raises DropError naming the file for unreadable files.
    """
    entity = ENTITIES[entity] if isinstance(entity, str) else entity
    started = time.perf_counter()
    ledger.ensure(con)
    files = entity_files(Path(drop), entity.name)
    if entity.is_required_entity and not files:
        raise DropError(f"{drop}: no file for required entity {entity.name!r} "
                        f"(expected {entity.name}.csv, {entity.name}-*.csv or .parquet)")
    current = {str(f.path.resolve()): fingerprint(f.path) for f in files}
    previous = ledger.loaded_files(con, entity.name)
    stale = {path for path, print_ in previous.items() if current.get(path) != print_}
    fresh = [f for f in files
             if previous.get(str(f.path.resolve())) != current[str(f.path.resolve())]]
    # Keep the rows of unchanged files when there are any (a drop that grows by a day);
    # otherwise, when new files bring new columns, or when the table is from an older
    # contract (fewer columns), replace the table.
    table_columns = raw_columns(con, entity.name)  # empty: no table yet
    partial = (bool(table_columns) and bool(previous) and len(fresh) < len(files)
               and set(entity.columns) <= set(table_columns))
    try:
        extra, partial = _write(con, entity, load_id, files, fresh, stale, table_columns,
                                partial)
    except duckdb.Error as exc:
        con.execute("rollback")  # _write raises duckdb.Error only inside its transaction
        read = fresh if partial else files
        named = [f for f in read if f"file = {f.path}" in map(str.strip, str(exc).splitlines())]
        if named:  # a reader's error on one file (a bad UTF-8 byte, a line over the limit)
            raise DropError(f"{named[0].path}: cannot be read as {named[0].fmt}: "
                            f"{reader_error(exc)}") from exc
        where = ", ".join(str(f.path) for f in read)
        raise DropError(f"{where}: cannot load {entity.name}: "
                        f"{str(exc).strip().splitlines()[0]}") from exc
    counts = {name: (rows, errors) for name, rows, errors in con.execute(
        f"select _source_file, count(*), count(_parse_error) from raw.{entity.name} "
        f"group by 1 order by 1").fetchall()}
    per_file = {name: rows for name, (rows, _) in counts.items()}
    errors = sum(errors for _, errors in counts.values())
    read_files = [f.path.name for f in (fresh if partial else files)]
    result = LoadResult(entity.name, sum(per_file.values()), per_file, errors, extra,
                        time.perf_counter() - started, read_files,
                        sorted(Path(p).name for p in set(previous) - set(current)))
    log = ([(f, *counts.get(f, (0, 0))) for f in read_files] or [(None, 0, 0)]
           if result.changed else [])
    ledger.record_load(
        con, entity.name, load_id,
        [(str(f.path.resolve()), f.path.name, current[str(f.path.resolve())],
          per_file.get(f.path.name, 0)) for f in files],
        log, result.seconds)
    con.execute("commit")
    return result


def _write(con: duckdb.DuckDBPyConnection, entity: Entity, load_id: str, files: list,
           fresh: list, stale: set, table_columns: list[str],
           partial: bool) -> tuple[list[str], bool]:
    """Read the fresh files (`partial`) or all files, open the load's transaction (the caller
    commits it after the bookkeeping) and write their rows. Returns the extra (non-contract)
    columns kept and whether the load stayed partial (new columns replace the table)."""
    read, columns = _read_files(con, entity, fresh if partial else files)
    if partial and not set(columns) <= set(table_columns):
        partial = False
        read, columns = _read_files(con, entity, files)
    internal = {*entity.columns, *LINEAGE_COLUMNS, "_raw_json"}
    extra = [c for c in (table_columns if partial else columns) if c not in internal]
    # Every name is quoted (names from files were checked in relation_sql); an empty field is
    # NULL whatever the reader, so the same row read twice is the same raw row.
    jsonl = any(f.fmt == "jsonl" for f in (fresh if partial else files))
    select = ", ".join([_text_column(c, c in columns) for c in [*entity.columns, *extra]]
                       + (["_raw_json"] if jsonl else []))
    body = " union all by name ".join(read) if read else (
        "select cast(null as varchar) as _source_file, cast(null as bigint) as _source_line, "
        "cast(null as varchar) as _parse_error limit 0")
    query = f"""
        select {select}, _source_file, _source_line, _parse_error,
               cast(? as varchar) as _load_id, cast(now() as timestamp) as _loaded_at
        from ({body})"""
    # One transaction: the table and its file list change together or not at all.
    con.execute("begin transaction")
    if partial:
        names = sorted({Path(path).name for path in stale} | {f.path.name for f in fresh})
        if names:
            con.execute(f"delete from raw.{entity.name} where _source_file in "
                        f"({', '.join('?' for _ in names)})", names)
        if read:
            con.execute(f"insert into raw.{entity.name} by name {query}", [load_id])
    else:
        con.execute(f"create or replace table raw.{entity.name} "
                    f"({', '.join(_definitions([*entity.columns, *extra], jsonl))})")
        con.execute(f"insert into raw.{entity.name} by name {query}", [load_id])
    return extra, partial


def _definitions(text_columns: list[str], jsonl: bool) -> list[str]:
    """The raw table's columns, as the load's query selects them. `_raw_json` (each JSON line
    as read, never read downstream) is stored with zstd: the default string compression
    costs more to write than the rest of the events table and keeps it twice as large."""
    return ([f"{identifier(c)} varchar" for c in text_columns]
            + (["_raw_json varchar using compression zstd"] if jsonl else [])
            + ["_source_file varchar", "_source_line bigint", "_parse_error varchar",
               "_load_id varchar", "_loaded_at timestamp"])


def _text_column(column: str, present: bool) -> str:
    name = identifier(column)
    return f"nullif({name}, '') as {name}" if present else f"cast(null as varchar) as {name}"


def _read_files(con: duckdb.DuckDBPyConnection, entity: Entity,
                files: list) -> tuple[list[str], list[str]]:
    """One SELECT per file (with `_source_file`) and the union of their columns."""
    parts, columns = [], []
    for file in files:
        sql, file_columns = relation_sql(con, file, entity)
        parts.append(f"select *, {literal(file.path.name)} as _source_file from ({sql})")
        columns += [c for c in file_columns if c not in columns]
    return parts, columns


def raw_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Columns of `raw.<table>`, empty when the table does not exist."""
    return [row[0] for row in con.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' "
        "and table_name = ? order by ordinal_position", [table]).fetchall()]
