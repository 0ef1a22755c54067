"""The report's numbers: named SQL queries, one file per section in `sql/`, run read-only.

Every figure the report shows comes from one of these queries over the marts, `ml` or
`audit`; Python only lays the results out. A query names its tables as `schema.table`;
when one of them is missing (e.g. schema `ml` before the models are trained) the query is
not run and its result says which tables were missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

SQL_DIR = Path(__file__).with_name("sql")
_NAME = re.compile(r"^-- name: (\w+)[ \t]*$", re.MULTILINE)
_RELATION = re.compile(r"\b(marts|ml|audit)\.(\w+)\b")
_PARAMETER = re.compile(r"\$(\w+)")


@dataclass(frozen=True)
class Query:
    section: str
    name: str
    sql: str

    @property
    def relations(self) -> list[str]:
        """The `schema.table` names the query reads, comments left out."""
        code = "\n".join(line.split("--", 1)[0] for line in self.sql.splitlines())
        return sorted({f"{schema}.{table}" for schema, table in _RELATION.findall(code)})

    @property
    def parameters(self) -> list[str]:
        return sorted(set(_PARAMETER.findall(self.sql)))


@dataclass
class Result:
    """A query's rows, or the tables it needed that the warehouse does not have."""

    query: Query
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    missing: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return bool(self.missing) or self.frame.empty


@cache
def section_queries(section: str) -> dict[str, Query]:
    """The named queries of `sql/<section>.sql`, in file order."""
    text = (SQL_DIR / f"{section}.sql").read_text(encoding="utf-8")
    parts = _NAME.split(text)  # [preamble, name, body, name, body, ...]
    queries = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"{SQL_DIR / section}.sql: query {name!r} is defined twice")
        queries[name] = Query(section, name, body.strip().rstrip(";"))
    return queries


class Warehouse:
    """A read-only view of the warehouse for the report: runs named queries and knows which
    tables exist and which contract entities the latest load had rows for."""

    def __init__(self, con: duckdb.DuckDBPyConnection, parameters: dict[str, object]):
        self.con = con
        self.parameters = parameters
        self.tables = {f"{schema}.{name}" for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() union all "
            "select schema_name, view_name from duckdb_views() where not internal"
        ).fetchall()}
        self.loaded_rows: dict[str, int] = {}
        if "audit.load_reconciliation" in self.tables:
            self.loaded_rows = {entity: int(rows or 0) for entity, rows in con.execute(
                "select entity, loaded_row_count from audit.load_reconciliation").fetchall()}

    def run(self, section: str, name: str) -> Result:
        query = section_queries(section)[name]
        missing = [r for r in query.relations if r not in self.tables]
        if missing:
            return Result(query, missing=missing)
        values = {p: self.parameters[p] for p in query.parameters}
        return Result(query, frame=self.con.execute(query.sql, values).df())

    def has_rows(self, entity: str) -> bool:
        """Whether the latest load kept any row of the entity (unknown entity: assume so)."""
        return self.loaded_rows.get(entity, 1) > 0
