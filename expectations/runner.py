"""Run suites with Great Expectations 1.x against the DuckDB warehouse file.

GX's SQL engine computes every metric in the database (a query asset per suite), so
millions of rows are never pulled into Python. One adaptation is needed for DuckDB:
GX reads a query's rows after handing the connection back to the pool, and DuckDB drops
a result whose connection moved on; `_buffered_execute_query` fetches the rows while the
connection is still held. Without it every SQL expectation fails with an empty result.

Each suite's query is evaluated once, into a temporary table that GX then reads. GX runs
one aggregate query per suite plus two row-listing queries per column expectation (the
sample and the offending rows' index columns), and a listing query finds nothing only after
scanning every row: over the query itself, each of them would parse every timestamp of ten
million events again (issue 18: this made the raw checks 2.6 times slower once the
plausibility rules were added).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import duckdb  # noqa: E402
import great_expectations as gx  # noqa: E402
from duckdb_engine import ConnectionWrapper  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.execution_engine.sqlalchemy_execution_engine import (  # noqa: E402
    SqlAlchemyExecutionEngine,
)
from sqlalchemy.pool import StaticPool  # noqa: E402

from contract.sql import identifier  # noqa: E402

from .suites import Suite  # noqa: E402


def _buffered_execute_query(self, query):
    with self.get_connection() as connection:
        result = self._execute_query_with_recovery(connection, query)
        return result.freeze()()  # rows fetched before the connection is released


SqlAlchemyExecutionEngine.execute_query = _buffered_execute_query


@dataclass
class Outcome:
    """One expectation's result, flat enough for a table and for check metadata."""

    suite: str
    expectation: str
    column: str | None
    rule: str
    severity: str
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    unexpected_percent: float | None
    sample: list = field(default_factory=list)  # a few offending values or rows


@dataclass
class SuiteResult:
    suite: Suite
    outcomes: list[Outcome]
    seconds: float
    # Per outcome, the rows GX considered and those it found missing (None where GX does
    # not say): what a later validation of only added rows combines with (quality/checks).
    counts: list[tuple[int | None, int | None]] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def severity(self) -> str | None:
        """'error' if an error-level expectation failed, else 'warn' if a warning did."""
        levels = {o.severity for o in self.failed}
        return "error" if "error" in levels else ("warn" if levels else None)


def run_suites(connection: duckdb.DuckDBPyConnection, suites: list[Suite]) -> list[SuiteResult]:
    """Validate each suite's query through `connection` (the caller's warehouse connection:
    DuckDB allows one configuration per file per process, so GX borrows it)."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # logs, not bars
    cursor = connection.cursor()
    source = context.data_sources.add_sql(
        name="warehouse", connection_string="duckdb:///:memory:",
        kwargs={"poolclass": StaticPool, "creator": lambda: ConnectionWrapper(cursor)})
    results = []
    try:
        for number, suite in enumerate(suites):
            started = time.perf_counter()
            table = f"_gx_suite_{number}"  # temporary: this connection only
            cursor.execute(f"create or replace temp table {table} as "
                           f"select {_needed_columns(suite)} from ({suite.query})")
            batch = source.add_query_asset(name=suite.name, query=f"select * from {table}") \
                .add_batch_definition_whole_table("all")
            gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.name,
                                                              expectations=suite.expectations))
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite))
            run = validation.run(result_format={
                "result_format": "SUMMARY", "partial_unexpected_count": 5,
                "unexpected_index_column_names": suite.index_columns})
            cursor.execute(f"drop table {table}")
            results.append(SuiteResult(suite, [_outcome(suite.name, r) for r in run.results],
                                       time.perf_counter() - started,
                                       [_counts(r) for r in run.results]))
    finally:
        source.get_engine().dispose()
        cursor.close()
    return results


def _needed_columns(suite: Suite) -> str:
    """The query's columns the expectations read (all of them when one looks at the column
    list itself), quoted: what the temporary table keeps."""
    names, everything = list(suite.index_columns), False
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        everything |= "column_set" in kwargs or "column_list" in kwargs
        names += [kwargs[key] for key in ("column", "column_A", "column_B") if kwargs.get(key)]
    if everything:
        return "*"
    return ", ".join(identifier(name) for name in dict.fromkeys(names))


def _outcome(suite_name: str, result) -> Outcome:
    config = result.expectation_config
    meta = config.meta or {}
    details = result.result or {}
    sample = details.get("partial_unexpected_index_list") or \
        details.get("partial_unexpected_list") or []
    if result.exception_info and result.exception_info.get("raised_exception"):
        observed = f"error: {result.exception_info.get('exception_message')}"
    else:
        observed = details.get("observed_value")
    return Outcome(
        suite=suite_name,
        expectation=config.type,
        column=config.kwargs.get("column") or config.kwargs.get("column_A"),
        rule=meta.get("rule", config.type),
        severity=meta.get("severity", "error"),
        success=bool(result.success),
        observed_value=None if observed is None else str(observed),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=details.get("unexpected_percent"),
        sample=[_plain(v) for v in sample[:5]],
    )


def _counts(result) -> tuple[int | None, int | None]:
    """(element_count, missing_count) of a column map expectation's result."""
    details = result.result or {}
    return details.get("element_count"), details.get("missing_count")


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)
