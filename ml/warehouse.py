"""Write model outputs back to the warehouse's `ml` schema, where BI tools read them."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

SCHEMA = "ml"


def write_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Replace ml.<table> with the frame; returns the row count. Columns named `*_date`
    become DATE (pandas holds them as timestamps)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", table):
        raise ValueError(f"{table!r} is not a plain lower-case table name")
    con.execute(f"create schema if not exists {SCHEMA}")
    view = f"_ml_frame_{table}"
    con.register(view, frame)
    try:
        dates = [c for c in frame.columns
                 if c.endswith("_date") and pd.api.types.is_datetime64_any_dtype(frame[c])]
        replace = (" replace (" + ", ".join(f'cast("{c}" as date) as "{c}"' for c in dates)
                   + ")") if dates else ""
        con.execute(f"create or replace table {SCHEMA}.{table} as "
                    f"select *{replace} from {view}")
    finally:
        con.unregister(view)
    return len(frame)
