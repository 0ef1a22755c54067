"""GX suites as asset checks: blocking on raw data, and on the published marts.

A failed "error" expectation fails its check with ERROR severity, which stops the assets
downstream in the same run; a failed "warn" expectation gives a WARN result that shows but
does not block. Every expectation's result is appended to `audit.dq_results`, and each
build's load reconciliation to `audit.load_reconciliation_history`.
"""

import json
import time

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from contract import ENTITIES
from expectations.runner import SuiteResult, run_suites
from expectations.suites import published_suites, rated_currencies, raw_suite

from ..resources import ShopSettings, WarehouseResource
from ..settings import Settings

CHECK_NAME = "great_expectations"

RAW_SPECS = [
    AssetCheckSpec(CHECK_NAME, asset=AssetKey(["raw", entity]), blocking=True,
                   description=f"The raw {entity} rows meet the export contract (GX suite "
                               f"raw_{entity}); errors block staging and marts.")
    for entity in ENTITIES
]
# The limit does not change which tables have suites; the run uses the configured one.
PUBLISHED_SPECS = [
    AssetCheckSpec(CHECK_NAME, asset=AssetKey(suite.asset), blocking=True,
                   description=f"GX suite {suite.name}: business ranges and shares of the table.")
    for suite in published_suites(quarantine_limit=Settings.quarantine_limit)
]


@multi_asset_check(specs=RAW_SPECS, can_subset=True, name="raw_contract_checks",
                   description="GX suites for every raw entity.")
def raw_contract_checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource,
                        shop: ShopSettings):
    entities = [key.asset_key.path[-1] for key in context.selected_asset_check_keys]
    with warehouse.lock(context), warehouse.connect(read_only=True) as con:
        rated = rated_currencies(con)
        rows = {e: con.execute(f'select count(*) from raw."{e}"').fetchone()[0]
                for e in entities}
    suites = [raw_suite(e, quarantine_limit=shop.quarantine_limit,
                        freshness_days=shop.freshness_days, base_currency=shop.base_currency,
                        rated_currencies=rated, quarantine_min_rows=shop.quarantine_min_rows,
                        row_count=rows[e]) for e in ENTITIES if e in entities]
    yield from _validate(context, warehouse, suites)


@multi_asset_check(specs=PUBLISHED_SPECS, can_subset=True, name="published_table_checks",
                   description="GX suites for the published marts.")
def published_table_checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource,
                           shop: ShopSettings):
    selected = {tuple(key.asset_key.path) for key in context.selected_asset_check_keys}
    suites = [s for s in published_suites(quarantine_limit=shop.quarantine_limit,
                                          quarantine_min_rows=shop.quarantine_min_rows)
              if tuple(s.asset) in selected]
    yield from _validate(context, warehouse, suites,
                         record_load=("audit", "load_reconciliation") in selected)


def _validate(context, warehouse: WarehouseResource, suites, record_load: bool = False):
    started = time.perf_counter()
    with warehouse.lock(context), warehouse.connect() as con:
        if record_load:
            record_reconciliation(con, context.run.run_id)
        results = run_suites(con, suites)
        record_results(con, context.run.run_id, results)
    context.log.info(f"validated {len(suites)} suite(s) in {time.perf_counter() - started:.1f} s")
    for result in results:
        yield check_result(result)


def check_result(result: SuiteResult) -> AssetCheckResult:
    failed = result.failed
    table = "\n".join(
        ["| severity | rule | column | observed | unexpected | sample |",
         "|---|---|---|---|---|---|"]
        + [f"| {o.severity} | {o.rule} | {o.column or ''} | {o.observed_value or ''} | "
           f"{o.unexpected_count if o.unexpected_count is not None else ''} | "
           f"{json.dumps(o.sample, ensure_ascii=False)[:300]} |" for o in failed])
    return AssetCheckResult(
        asset_key=AssetKey(result.suite.asset),
        check_name=CHECK_NAME,
        passed=not failed,
        severity=AssetCheckSeverity.ERROR if result.severity == "error"
        else AssetCheckSeverity.WARN,
        metadata={
            "suite": result.suite.name,
            "expectations": len(result.outcomes),
            "failed_expectations": len(failed),
            "seconds": round(result.seconds, 3),
            "failures": MetadataValue.md(table if failed else "all expectations met"),
            "failed_details": MetadataValue.json([o.__dict__ for o in failed]),
        },
    )


def record_reconciliation(con, run_id: str) -> None:
    """Append the load's reconciliation to audit.load_reconciliation_history, so the
    quarantine share per entity can be followed build after build (the KPI report does)."""
    con.execute("create schema if not exists audit")
    con.execute("""
        create table if not exists audit.load_reconciliation_history (
            run_id varchar, recorded_at timestamp, entity varchar, raw_row_count bigint,
            loaded_row_count bigint, quarantined_row_count bigint,
            exact_duplicate_count bigint)""")
    con.execute("""
        insert into audit.load_reconciliation_history
        select ?, now(), entity, raw_row_count, loaded_row_count, quarantined_row_count,
            exact_duplicate_count
        from audit.load_reconciliation""", [run_id])


def record_results(con, run_id: str, results: list[SuiteResult]) -> None:
    """Append every expectation's outcome to audit.dq_results (quality over time, for BI)."""
    con.execute("create schema if not exists audit")
    con.execute("""
        create table if not exists audit.dq_results (
            run_id varchar, asset_key varchar, suite varchar, expectation varchar,
            column_name varchar, rule varchar, severity varchar, success boolean,
            observed_value varchar, unexpected_count bigint, unexpected_percent double,
            sample varchar, seconds double, validated_at timestamp)""")
    rows = [(run_id, "/".join(r.suite.asset), o.suite, o.expectation, o.column, o.rule,
             o.severity, o.success, o.observed_value, o.unexpected_count, o.unexpected_percent,
             json.dumps(o.sample, ensure_ascii=False), r.seconds)
            for r in results for o in r.outcomes]
    if rows:
        con.executemany("insert into audit.dq_results values "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())", rows)
