"""Order-independent fingerprints of the warehouse's outputs, to prove a rewrite of staging
keeps every reconciliation count, quarantined row and reason, and mart value.

A table's fingerprint is its row count and the sum of a hash of each row, with doubles
rounded to 6 significant places (parallel sums may differ in the last bits between runs)
and the load's own run id and clock left out.
"""

from __future__ import annotations

import duckdb

from contract.sql import identifier

# The load's run id and wall clock, and build times: they differ between any two builds; and
# the keyed e-mail pseudonym, which differs between any two keys (each test warehouse makes
# its own).
VOLATILE = {"_load_id", "_loaded_at", "loaded_at", "built_at", "run_id", "published_at",
            "checked_at", "computed_at", "as_of_loaded_at", "email_pseudonym"}


def _expression(column: str, data_type: str) -> str:
    name = identifier(column)
    if data_type in ("DOUBLE", "FLOAT", "REAL"):
        # 6 significant places: round to a power of ten of the value's own magnitude.
        return (f"case when {name} is null or {name} = 0 or isnan({name}) or isinf({name}) "
                f"then cast({name} as varchar) else cast(round({name}, 6 - cast(ceil(log10("
                f"abs({name}))) as integer)) as varchar) end")
    return f"cast({name} as varchar)"


def table_fingerprint(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list:
    columns = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? "
        "and table_name = ? order by ordinal_position", [schema, table]).fetchall()
    kept = [(c, t) for c, t in columns if c not in VOLATILE]
    row = ", ".join(f"coalesce({_expression(c, t)}, '<null>')" for c, t in kept)
    count, digest = con.execute(
        f'select count(*), coalesce(sum(hash(concat_ws(chr(31), {row}, \'\'))), 0) '
        f'from "{schema}"."{table}"').fetchone()
    return [count, str(digest)]


def warehouse_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """Fingerprints of the marts, the quarantine (rows and reasons) and the reconciliation."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables where "
        "(table_schema = 'marts' or (table_schema = 'staging' and table_name like '%_rejected')"
        " or (table_schema = 'audit' and table_name = 'load_reconciliation')) "
        "and table_type = 'BASE TABLE' order by 1, 2").fetchall()
    return {f"{schema}.{table}": table_fingerprint(con, schema, table) for schema, table in tables}
