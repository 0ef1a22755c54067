"""The serving copy: what BI tools read, written beside the live warehouse and swapped in.

BI tools hold their connections open; DuckDB lets a file have one writer or many readers,
never both, and DuckDB 2.0 files cannot be opened by the 1.x clients most BI tools bundle.
So every successful build copies what an analyst reads (schemas `marts` and `ml`, the load
reconciliation, the newest data-quality result of every check, and where it all came from)
into a new file in a storage format DuckDB 1.1+ reads, with every table's and column's
description as a comment, and renames it over the previous copy. A reader that has the old
copy open keeps its inode (a consistent old snapshot); the next reader opens the new one;
nobody waits for a build and a build waits for nobody. A failed build publishes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from contract.sql import identifier, literal

from .. import ledger

# The oldest storage format that holds everything the marts use; DuckDB 1.1 and newer read
# it (1.4 is what the BI drivers of late 2026 bundle). Raising it locks out older clients.
STORAGE_VERSION = "v1.1.0"
SCHEMAS = ("marts", "ml")
DBT_SCHEMAS = ("marts", "audit")  # what dbt writes here is in its change log (ml is not)
AUDIT_TABLES = ("load_reconciliation",)
ABOUT_TABLE = "serving_copy"
DQ_TABLE = "dq_results_latest"

DQ_DESCRIPTION = ("The newest Great Expectations result of every expectation (one row per "
                  "asset, suite, expectation type, column and rule), copied from "
                  "audit.dq_results; times UTC.")
# One expectation: a suite holds the same type many times (one per column, or per rule).
DQ_KEY = "asset_key, suite, expectation, column_name, rule"
DQ_COLUMNS = {
    "run_id": "The Dagster run that validated.",
    "asset_key": "The validated table as a Dagster asset key, e.g. raw/orders.",
    "suite": "The Great Expectations suite (expectations/suites.py).",
    "expectation": "The expectation's name within its suite.",
    "column_name": "The column the expectation is about; empty for table-level rules.",
    "rule": "The Great Expectations expectation type.",
    "severity": "error (blocks the tables downstream) or warn (shown, not blocking).",
    "success": "Whether the expectation was met.",
    "observed_value": "What was measured, as text.",
    "unexpected_count": "Rows that broke the rule.",
    "unexpected_percent": "Share of rows that broke the rule, in percent.",
    "sample": "A few offending rows (JSON) with their source file and line.",
    "seconds": "Seconds the whole suite took to validate.",
    "validated_at": "When the suite ran (UTC).",
}
ABOUT_DESCRIPTION = "One row: where this serving copy came from and when it was published."
ABOUT_COLUMNS = {
    "warehouse_path": "The live warehouse file this copy was taken from.",
    "drop_dir": "The export drop folder(s) the warehouse's raw tables were loaded from.",
    "drop_file_count": "Files of that drop in the warehouse.",
    "last_loaded_at": "When the newest of those files was loaded (UTC).",
    "run_id": "The Dagster run that published this copy.",
    "published_at": "When the copy was published (UTC).",
    "storage_version": "DuckDB storage format of this file; DuckDB clients of this version "
                       "or newer can open it.",
    "table_count": "Tables in this copy, this one included.",
}


class ServingError(RuntimeError):
    """A serving copy that cannot be published; the message is one line saying why."""


@dataclass(frozen=True)
class Publication:
    path: str
    tables: dict[str, int]  # "schema.table" -> rows
    seconds: float
    file_bytes: int
    storage_version: str
    published_at: str
    updated: bool = False  # the previous copy was updated, not copied whole
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step


def publish(warehouse_path: str, serving_path: str, *, run_id: str = "",
            incremental: bool = False) -> Publication:
    """Copy the analyst-facing tables of the warehouse to `serving_path`, atomically.

    `incremental`: start from a file copy of the previous serving copy and re-copy only
    what changed since it was published (`update_plan`), when that can be known; else, and
    by default, copy everything. Either way the result is written beside the copy and
    renamed over it, and the change log is pruned afterwards (ledger.record_publication).
    """
    started = time.perf_counter()
    serving = Path(serving_path)
    if serving.resolve() == Path(warehouse_path).resolve():
        raise ServingError(f"the serving copy {serving} cannot be the live warehouse itself")
    serving.parent.mkdir(parents=True, exist_ok=True)
    refuse_foreign_copy(serving, warehouse_path)
    with duckdb.connect(warehouse_path, read_only=True) as con:
        changes = ledger.model_changes(con)
    plan = update_plan(serving, changes) if incremental else None
    # Same folder, so os.replace is a rename on one filesystem: atomic for readers.
    temporary = serving.with_name(f".{serving.name}.{os.getpid()}.tmp")
    _remove(temporary)
    published_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    steps, mark = {}, time.perf_counter()

    def step(name: str) -> None:
        nonlocal mark
        steps[name] = round(time.perf_counter() - mark, 2)
        mark = time.perf_counter()

    try:
        if plan is not None:
            shutil.copyfile(serving, temporary)
            step("file copy")
        with duckdb.connect() as con:
            con.execute(f"attach {literal(warehouse_path)} as live (read_only)")
            if plan is None:
                con.execute(f"attach {literal(str(temporary))} as serving "
                            f"(storage_version {literal(STORAGE_VERSION)})")
                tables = _copy_tables(con)
                copied = set(tables)
                step("tables (all copied whole)")
            else:
                # An existing file keeps the storage version it was written with.
                con.execute(f"attach {literal(str(temporary))} as serving")
                seconds: dict[str, float] = {}
                # One transaction: the copy's rows are written once, at its commit, instead
                # of through the write-ahead log statement by statement.
                con.execute("begin")
                tables, copied = _update_tables(con, plan, seconds)
                con.execute("commit")
                step(f"tables ({len(copied)} copied whole)")
                steps.update(seconds)
            # One transaction: a comment per copied column (hundreds) would otherwise
            # each commit on its own.
            con.execute("begin")
            tables.update(_copy_quality(con))
            _comment_copied(con, copied)
            tables[f"audit.{ABOUT_TABLE}"] = 1
            _write_about(con, warehouse_path, run_id, published_at, len(tables))
            con.execute("commit")
            step("quality, comments, about")
            con.execute("checkpoint serving")
            con.execute("detach serving")
            step("checkpoint")
        os.replace(temporary, serving)
    finally:
        _remove(temporary)
    with duckdb.connect(warehouse_path) as con:
        ledger.record_publication(con, _token(run_id, published_at),
                                  changes.cutoff if changes else None)
    return Publication(path=str(serving), tables=tables,
                       seconds=time.perf_counter() - started,
                       file_bytes=serving.stat().st_size, storage_version=STORAGE_VERSION,
                       published_at=published_at.isoformat(sep=" "),
                       updated=plan is not None, steps=steps)


def _token(run_id: str, published_at: datetime) -> str:
    """A publication as the change log records it: the run and the time of the copy."""
    return f"{run_id}@{published_at.isoformat(sep=' ')}"


@dataclass(frozen=True)
class UpdatePlan:
    """How to bring the previous copy up to date: relations re-copied whole, relations
    whose replaced keys are re-copied (relation -> key columns)."""

    whole: frozenset[str]
    keys: dict[str, str]


def update_plan(serving: Path, changes: ledger.ModelChanges | None) -> UpdatePlan | None:
    """The update of the previous copy, or None when it must be copied whole: no previous
    copy (or one of another storage version), no change log, a dbt invocation that did not
    finish, or a previous copy that is not the publication the log was last pruned for
    (a failed or foreign publish, or a warehouse published before the log existed)."""
    if changes is None or changes.running or changes.published is None or not serving.exists():
        return None
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            about = con.execute(f"select run_id, published_at, storage_version "
                                f"from audit.{identifier(ABOUT_TABLE)}").fetchall()
    except duckdb.Error:
        return None  # held for writing by a tool, or unreadable: copy whole
    if len(about) != 1 or about[0][2] != STORAGE_VERSION:
        return None
    run_id, published_at, _ = about[0]
    if _token(run_id or "", published_at) != changes.published:
        return None
    return UpdatePlan(whole=changes.whole, keys=dict(changes.keys))


def refuse_foreign_copy(serving: Path, warehouse_path: str) -> None:
    """Two warehouses must never share one serving file (an explicit SHOP_SERVING_PATH
    reused for another --warehouse would otherwise mix two shops for BI users)."""
    if not serving.exists():
        return
    try:
        with duckdb.connect(str(serving), read_only=True) as con:
            about = f"audit.{identifier(ABOUT_TABLE)}"
            rows = con.execute(f"select warehouse_path from {about}").fetchall()
    except duckdb.IOException as error:
        if LOCK_HOLDER.search(str(error)):
            # A tool opened the copy for writing, so it cannot be read here; the rename
            # still works (that tool keeps the old file), and a build must not fail for it.
            return
        raise ServingError(f"{serving} cannot be read ({str(error).splitlines()[0]})") from error
    except duckdb.Error as error:
        raise ServingError(f"{serving} exists but is not a serving copy this project wrote "
                           f"({str(error).splitlines()[0]}); move it away or choose another "
                           f"SHOP_SERVING_PATH") from error
    owner = rows[0][0] if rows else ""
    if Path(owner).resolve() != Path(warehouse_path).resolve():
        raise ServingError(f"{serving} is the serving copy of another warehouse ({owner}); "
                           f"set SHOP_SERVING_PATH to a file of this warehouse's own")


def _wanted(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The live tables a serving copy holds (besides the quality and about tables)."""
    return con.execute("""
        select schema_name, table_name from duckdb_tables()
        where database_name = 'live'
          and (schema_name in (select unnest(?::varchar[]))
               or (schema_name = 'audit' and table_name in (select unnest(?::varchar[]))))
        order by schema_name, table_name""", [list(SCHEMAS), list(AUDIT_TABLES)]).fetchall()


def _copy_tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    wanted = _wanted(con)
    copied = {}
    for schema in sorted({schema for schema, _ in wanted} | {"audit"}):
        con.execute(f"create schema if not exists serving.{identifier(schema)}")
    for schema, table in wanted:
        copied[f"{schema}.{table}"] = _copy_whole(con, schema, table)
    return copied


def _copy_whole(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    name = f"{identifier(schema)}.{identifier(table)}"
    con.execute(f"create table serving.{name} as select * from live.{name}")
    return con.execute(f"select count(*) from serving.{name}").fetchone()[0]


def _update_tables(con: duckdb.DuckDBPyConnection, plan: UpdatePlan,
                   seconds: dict[str, float]) -> tuple[dict[str, int], set[str]]:
    """Bring the attached copy of the previous serving file up to date with the live
    tables: re-copy a table whole when dbt rebuilt it whole, when it is not a dbt model
    (schema ml, written by the models, compared by content), or when its columns or row
    count differ from the live table's; replace the rows of the keys dbt replaced in an
    incremental model; keep the rest. Returns the row counts and the tables copied whole
    (their comments are copied afresh). `seconds` gets the tables that took longer than a
    second."""
    wanted = _wanted(con)
    held = {name for (name,) in con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where database_name = 'serving'").fetchall()}
    for schema in sorted({schema for schema, _ in wanted} | {"audit"}):
        con.execute(f"create schema if not exists serving.{identifier(schema)}")
    keep = {f"{schema}.{table}" for schema, table in wanted}
    for name in sorted(held - keep):  # dropped from live, or rewritten below
        schema, table = name.split(".", 1)
        con.execute(f"drop table serving.{identifier(schema)}.{identifier(table)}")
    tables, copied = {}, set()
    for schema, table in wanted:
        started = time.perf_counter()
        name = f"{schema}.{table}"
        quoted = f"{identifier(schema)}.{identifier(table)}"
        whole = (name not in held or name in plan.whole
                 or _columns(con, "live", schema, table) != _columns(con, "serving", schema, table)
                 or (schema not in DBT_SCHEMAS
                     and _content(con, "live", quoted) != _content(con, "serving", quoted)))
        how = "kept"
        if not whole and name in plan.keys:
            _replace_keys(con, quoted, plan.keys[name], name)
            how = "keys replaced"
        if not whole:
            count = con.execute(f"select count(*) from serving.{quoted}").fetchone()[0]
            whole = count != con.execute(f"select count(*) from live.{quoted}").fetchone()[0]
        if whole:
            if name in held:
                con.execute(f"drop table serving.{quoted}")
            count = _copy_whole(con, schema, table)
            copied.add(name)
            how = "copied whole"
        tables[name] = count
        took = time.perf_counter() - started
        if took >= 1:
            seconds[f"{name} ({how})"] = round(took, 2)
    return tables, copied


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str,
             table: str) -> list[tuple]:
    return con.execute("""
        select column_name, data_type from duckdb_columns()
        where database_name = ? and schema_name = ? and table_name = ?
        order by column_index""", [database, schema, table]).fetchall()


def _content(con: duckdb.DuckDBPyConnection, database: str, quoted: str) -> tuple:
    """Row count and the sum of the rows' hashes: whether a table not written by dbt
    changed (a change keeping both is a 64-bit hash collision)."""
    return con.execute(f"select count(*), sum(hash(row_values)::hugeint) "
                       f"from {database}.{quoted} as row_values").fetchone()


def _replace_keys(con: duckdb.DuckDBPyConnection, quoted: str, key_columns: str,
                  relation: str) -> None:
    """Delete the copy's rows of the replaced keys (by hash, as dbt logged them: a
    collision only re-copies more rows) and insert the live rows of those keys. A key
    that strategy `replace_ranges` logged with a range in every invocation since the last
    publication is replaced from the earliest of them on (its rows at or after
    `replaced_from` in the range column, DECISIONS 36); any other key whole."""
    key = ", ".join(f"replaced_rows.{identifier(column.strip())}"
                    for column in key_columns.split(","))
    column = _range_column(con, relation)
    if column is None:
        con.execute(f"""
            create or replace temporary table replaced_keys as
            select distinct key_hash, cast(null as timestamp) as replaced_from
            from live.{ledger.MODEL_CHANGES}
            where relation = ? and kind = 'keys' and key_hash is not null""", [relation])
    else:
        con.execute(f"""
            create or replace temporary table replaced_keys as
            select
                logged.key_hash,
                case when bool_or(ranges.replaced_from is null) then null
                     else min(ranges.replaced_from) end as replaced_from
            from live.{ledger.MODEL_CHANGES} as logged
            left join live.{ledger.MODEL_CHANGE_RANGES} as ranges
                on ranges.relation = logged.relation
                and ranges.invocation_id = logged.invocation_id
                and ranges.key_hash = logged.key_hash
            where logged.relation = ? and logged.kind = 'keys' and logged.key_hash is not null
            group by logged.key_hash""", [relation])
    replaced = ("replaced_keys.replaced_from is null" if column is None else
                f"(replaced_keys.replaced_from is null "
                f"or replaced_rows.{identifier(column)} >= replaced_keys.replaced_from)")
    con.execute(f"delete from serving.{quoted} as replaced_rows using replaced_keys "
                f"where hash({key}) = replaced_keys.key_hash "
                f"and {replaced}")
    # The live rows are found by their key columns alone, then read whole by row id: a
    # filter on the key over `select *` would read every column of every row (issue 18).
    con.execute(f"insert into serving.{quoted} select * from live.{quoted} where rowid in ("
                f"select replaced_rows.rowid from live.{quoted} as replaced_rows "
                f"inner join replaced_keys "
                f"on hash({key}) = replaced_keys.key_hash "
                f"where {replaced})")


def _range_column(con: duckdb.DuckDBPyConnection, relation: str) -> str | None:
    """The column that bounds the replaced ranges of `relation`, when it logged ranges
    (a warehouse built before DECISIONS 36 has no range table: keys replaced whole)."""
    exists = con.execute("""
        select count(*) from duckdb_tables()
        where database_name = 'live' and schema_name = ? and table_name = ?""",
                         ledger.MODEL_CHANGE_RANGES.split(".")).fetchone()[0]
    if not exists:
        return None
    columns = con.execute(f"""
        select distinct range_column from live.{ledger.MODEL_CHANGE_RANGES}
        where relation = ?""", [relation]).fetchall()
    return columns[0][0] if len(columns) == 1 else None


def _copy_quality(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The newest result per expectation: what holds now, without the history's bulk."""
    has_results = con.execute("""
        select count(*) from duckdb_tables()
        where database_name = 'live' and schema_name = 'audit' and table_name = 'dq_results'
        """).fetchone()[0]
    if not has_results:
        return {}
    con.execute(f"""
        create table serving.audit.{identifier(DQ_TABLE)} as
        select * from live.audit.dq_results
        qualify row_number() over (
            partition by {DQ_KEY}
            order by validated_at desc, run_id desc) = 1
        order by {DQ_KEY}""")
    target = f"serving.audit.{identifier(DQ_TABLE)}"
    con.execute(f"comment on table {target} is {literal(DQ_DESCRIPTION)}")
    columns = {row[0] for row in con.execute(
        "select column_name from duckdb_columns() where database_name = 'serving' "
        "and schema_name = 'audit' and table_name = ?", [DQ_TABLE]).fetchall()}
    for column in sorted(columns & set(DQ_COLUMNS)):
        con.execute(f"comment on column {target}.{identifier(column)} "
                    f"is {literal(DQ_COLUMNS[column])}")
    return {f"audit.{DQ_TABLE}": con.execute(
        f"select count(*) from serving.audit.{identifier(DQ_TABLE)}").fetchone()[0]}


def _comment_copied(con: duckdb.DuckDBPyConnection, tables: set[str]) -> None:
    """Carry the live tables' and columns' comments (dbt's persist_docs and the ml writer's
    descriptions) over to the copy."""
    for schema, table, comment in con.execute("""
            select schema_name, table_name, comment from duckdb_tables()
            where database_name = 'live' and comment is not null""").fetchall():
        if f"{schema}.{table}" in tables:
            con.execute(f"comment on table serving.{identifier(schema)}.{identifier(table)} "
                        f"is {literal(comment)}")
    for schema, table, column, comment in con.execute("""
            select schema_name, table_name, column_name, comment from duckdb_columns()
            where database_name = 'live' and comment is not null""").fetchall():
        if f"{schema}.{table}" in tables:
            con.execute(f"comment on column serving.{identifier(schema)}.{identifier(table)}."
                        f"{identifier(column)} is {literal(comment)}")


def _write_about(con: duckdb.DuckDBPyConnection, warehouse_path: str, run_id: str,
                 published_at: datetime, table_count: int) -> None:
    files = con.execute("""
        select count(*) from duckdb_tables()
        where database_name = 'live' and schema_name = 'raw' and table_name = '_files'
        """).fetchone()[0]
    paths, last_loaded_at = [], None
    if files:
        paths = [row[0] for row in con.execute(
            "select source_path from live.raw._files order by source_path").fetchall()]
        last_loaded_at = con.execute("select max(loaded_at) from live.raw._files").fetchone()[0]
    drop_dir = ", ".join(sorted({str(Path(path).parent) for path in paths}))
    about = f"serving.audit.{identifier(ABOUT_TABLE)}"
    con.execute(f"""create table {about} (warehouse_path varchar, drop_dir varchar,
                    drop_file_count bigint, last_loaded_at timestamp, run_id varchar,
                    published_at timestamp, storage_version varchar, table_count bigint)""")
    con.execute(f"insert into {about} values (?, ?, ?, ?, ?, ?, ?, ?)",
                [str(Path(warehouse_path).resolve()), drop_dir, len(paths), last_loaded_at,
                 run_id, published_at, STORAGE_VERSION, table_count])
    con.execute(f"comment on table {about} is {literal(ABOUT_DESCRIPTION)}")
    for column, description in ABOUT_COLUMNS.items():
        con.execute(f"comment on column {about}.{identifier(column)} is {literal(description)}")


def _remove(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def lock_message(warehouse_path: str, serving_path: str, error: duckdb.Error) -> str | None:
    """One line for a warehouse locked by another process, or None for any other error."""
    found = LOCK_HOLDER.search(str(error))
    if not found:
        return None
    return (f"{warehouse_path} is open in {found['program']} (PID {found['pid']}), so this "
            f"build cannot write it; close that connection (or stop PID {found['pid']}) and "
            f"build again, and point BI tools at the serving copy {serving_path}, which "
            f"builds never lock")
