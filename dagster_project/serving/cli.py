"""What `python -m dagster_project.build` says about the serving copy and the lock."""

from __future__ import annotations

from pathlib import Path

import duckdb

from contract.sql import identifier

from .publish import ABOUT_TABLE, lock_message


def warehouse_lock_holder(warehouse_path: str, serving_path: str) -> str | None:
    """One line naming the process that holds the warehouse (a BI tool, say), or None when
    a build could write it. Checked before a build starts, so it fails at once."""
    if not Path(warehouse_path).exists():
        return None
    try:
        duckdb.connect(warehouse_path).close()
    except duckdb.IOException as error:
        return lock_message(warehouse_path, serving_path, error)
    return None


def serving_line(serving_path: str) -> str:
    """Where BI tools connect, and when that copy was published."""
    if not Path(serving_path).exists():
        return f"Serving copy for BI tools: none yet (will be {serving_path})"
    try:
        with duckdb.connect(serving_path, read_only=True) as con:
            published_at, tables, version = con.execute(
                f"select published_at, table_count, storage_version "
                f"from audit.{identifier(ABOUT_TABLE)}").fetchone()
    except duckdb.Error as error:  # e.g. a BI tool holds it open for writing
        return (f"Serving copy for BI tools: {serving_path} (published; cannot be read now: "
                f"{str(error).strip().splitlines()[0]})")
    return (f"Serving copy for BI tools: {serving_path} ({tables} tables, published "
            f"{published_at} UTC, readable by DuckDB clients {version.lstrip('v')}+)")
