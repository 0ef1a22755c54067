"""Land one entity's files, as they are, in the warehouse's `raw` schema."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..contract import ENTITIES, LINEAGE_COLUMNS, Entity
from .files import DropError, entity_files, relation_sql

__all__ = ["DropError", "LoadResult", "load_entity", "ensure_raw_schema"]


@dataclass
class LoadResult:
    entity: str
    rows: int
    files: dict[str, int] = field(default_factory=dict)  # file name -> rows
    parse_errors: int = 0
    extra_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute("""
        create table if not exists raw._load_log (
            load_id varchar, entity varchar, source_file varchar, row_count bigint,
            parse_error_count bigint, loaded_at timestamp, seconds double)""")


def load_entity(con: duckdb.DuckDBPyConnection, drop: Path, entity: Entity | str,
                load_id: str) -> LoadResult:
    """Replace `raw.<entity>` with every row of the entity's files in the drop.

    Text stays text (`00001` stays `00001`); contract columns absent from the files are
    added empty so staging can rely on them; extra columns are kept. A missing optional
    entity gives an empty table. Raises DropError naming the file for unreadable files.
    """
    entity = ENTITIES[entity] if isinstance(entity, str) else entity
    started = time.perf_counter()
    ensure_raw_schema(con)
    files = entity_files(Path(drop), entity.name)
    if entity.is_required_entity and not files:
        raise DropError(f"{drop}: no file for required entity {entity.name!r} "
                        f"(expected {entity.name}.csv, {entity.name}-*.csv or .parquet)")
    parts, columns = [], []
    for file in files:
        sql, file_columns = relation_sql(con, file, entity)
        name = file.path.name.replace("'", "''")
        parts.append(f"select *, '{name}' as _source_file from ({sql})")
        columns += [c for c in file_columns if c not in columns]
    extra = [c for c in columns if c not in entity.columns and c not in LINEAGE_COLUMNS
             and c != "_raw_json"]
    select = ", ".join(
        [f'"{c}"' if c in columns else f'cast(null as varchar) as "{c}"' for c in entity.columns]
        + [f'"{c}"' for c in extra]
        + (["_raw_json"] if any(f.fmt == "jsonl" for f in files) else [])
    )
    body = " union all by name ".join(parts) if parts else (
        "select cast(null as varchar) as _source_file, cast(null as bigint) as _source_line, "
        "cast(null as varchar) as _parse_error limit 0")
    try:
        con.execute(f"""
            create or replace table raw.{entity.name} as
            select {select}, _source_file, _source_line, _parse_error,
                   cast(? as varchar) as _load_id, cast(now() as timestamp) as _loaded_at
            from ({body})""", [load_id])
    except duckdb.Error as exc:
        where = ", ".join(str(f.path) for f in files)
        raise DropError(f"{where}: cannot load {entity.name}: "
                        f"{str(exc).strip().splitlines()[0]}") from exc
    per_file = dict(con.execute(
        f"select _source_file, count(*) from raw.{entity.name} group by 1 order by 1").fetchall())
    errors = con.execute(
        f"select count(*) from raw.{entity.name} where _parse_error is not null").fetchall()[0][0]
    result = LoadResult(entity.name, sum(per_file.values()), per_file, errors, extra,
                        time.perf_counter() - started)
    con.executemany(
        "insert into raw._load_log values (?, ?, ?, ?, ?, now(), ?)",
        [(load_id, entity.name, f, n, errors, result.seconds) for f, n in per_file.items()]
        or [(load_id, entity.name, None, 0, 0, result.seconds)])
    return result
