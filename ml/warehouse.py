"""Write model outputs back to the warehouse's `ml` schema, where BI tools read them."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from contract.sql import identifier, literal

from .tables import TABLES

SCHEMA = "ml"


def write_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Replace ml.<table> with the frame; returns the row count. Columns get the types
    and descriptions of `ml.tables.TABLES` (pandas holds dates as timestamps, counts with
    gaps as floats)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        raise ValueError(f"{table!r} is not a plain lower-case table name")
    if table not in TABLES:
        raise ValueError(f"ml.{table} is not described in ml/tables.py; add it there first")
    columns = TABLES[table].columns
    undescribed = [c for c in frame.columns if c not in columns]
    if undescribed:
        raise ValueError(f"ml.{table}: column(s) {', '.join(map(str, undescribed))} are not "
                         f"described in ml/tables.py; add them there first")
    con.execute(f"create schema if not exists {SCHEMA}")
    view = f"_ml_frame_{table}"
    con.register(view, frame)
    try:
        select = ", ".join(f'cast("{c}" as {columns[c].type}) as "{c}"' for c in frame.columns)
        con.execute(f"create or replace table {SCHEMA}.{table} as select {select} from {view}")
    finally:
        con.unregister(view)
    describe(con, table)
    return len(frame)


def describe(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Store the table's and its columns' descriptions as DuckDB comments."""
    spec = TABLES[table]
    present = {row[0] for row in con.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
        [SCHEMA, table]).fetchall()}
    con.execute(f"comment on table {SCHEMA}.{table} is {literal(spec.description)}")
    for column, description in spec.columns.items():
        if column in present:
            con.execute(f"comment on column {SCHEMA}.{table}.{identifier(column)} "
                        f"is {literal(description.description)}")


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ml.<table> exists (a skipped model leaves none)."""
    # fetchall: the result is finished, so the connection's relation API can run next.
    return bool(con.execute("select count(*) from duckdb_tables() where schema_name = ? "
                            "and table_name = ?", [SCHEMA, table]).fetchall()[0][0])
