"""GX suites as asset checks: blocking on raw data, and on the published marts.

A failed "error" expectation fails its check with ERROR severity, which stops the assets
downstream in the same run; a failed "warn" expectation gives a WARN result that shows but
does not block. Every expectation's result is appended to `audit.dq_results`, and each
build's load reconciliation to `audit.load_reconciliation_history` (dagster_project/ledger).

A raw suite is validated again only when its entity's files or its definition (settings,
rated currencies, row count, the rules themselves) changed since its last validation, as
the ledger recorded it: otherwise its check reports the recorded outcome ("unchanged since
run X"), with the time-dependent expectations (freshness) evaluated again.
"""

import json
import time
from dataclasses import replace

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
from contract.sql import identifier, literal_list
from expectations.runner import Outcome, SuiteResult, run_suites
from expectations.suites import Suite, published_suites, rated_currencies, raw_suite

from .. import ledger
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
    started = time.perf_counter()
    with warehouse.lock(context), warehouse.connect() as con:
        rated = rated_currencies(con)
        rows = {e: con.execute(f"select count(*) from raw.{identifier(e)}").fetchone()[0]
                for e in entities}
        suites = [raw_suite(e, quarantine_limit=shop.quarantine_limit,
                            freshness_days=shop.freshness_days, base_currency=shop.base_currency,
                            rated_currencies=rated, quarantine_min_rows=shop.quarantine_min_rows,
                            row_count=rows[e]) for e in ENTITIES if e in entities]
        results = validate_raw(con, suites, rows, context.run.run_id)
    validated = sum(1 for _, carried in results if carried is None)
    context.log.info(f"validated {validated} raw suite(s), {len(results) - validated} "
                     f"unchanged, in {time.perf_counter() - started:.1f} s")
    for result, carried in results:
        yield check_result(result, carried)


def validate_raw(con, suites: list[Suite], rows: dict[str, int],
                 run_id: str) -> list[tuple[SuiteResult, str | None]]:
    """Each raw suite's result, in order, with the run it was carried over from (None:
    validated now). A suite whose definition and entity files match its last validation
    is not validated again: its recorded outcomes are reported, its freshness aged by the
    days since. A suite whose entity only gained files since (same rules) validates the
    added files' rows alone and adds their counts to the recorded ones (`_grown_result`):
    the same outcomes as validating the whole table. Records what was validated and
    evaluated in `run_id`."""
    fresh, carried, grown = [], {}, {}
    for suite in suites:
        entity = suite.asset[-1]
        state = ledger.check_state(con, suite.name)
        files = ledger.loaded_files(con, entity)
        unchanged = (state is not None and state.suite_digest == ledger.digest(suite.definition())
                     and state.row_count == rows[entity] and state.files == files)
        recorded = ledger.recorded_outcomes(con, state.run_id, suite.name) if state else []
        # An expectation that raised (observed "error: ...") is validated again, not repeated.
        usable = bool(recorded) and not any(str(row[5]).startswith("error:") for row in recorded)
        if unchanged and usable:
            carried[suite.name] = (state, recorded)
            continue
        added = _added_files(con, suite, state, files, rows[entity]) if usable else None
        if added:
            grown[suite.name] = (state, recorded, added)
        else:
            fresh.append(suite)
    validated = {}
    for suite in suites:
        if suite.name in grown:
            result = _grown_result(con, suite, *grown[suite.name])
            if result is None:  # a count GX did not give: validated whole after all
                fresh.append(suite)
            else:
                validated[suite.name] = result
    validated.update({r.suite.name: r for r in run_suites(con, fresh)} if fresh else {})
    results = []
    for suite in suites:
        if suite.name in validated:
            ledger.record_check(con, suite.name, suite.asset[-1],
                                ledger.digest(suite.definition()), rows[suite.asset[-1]], run_id)
            ledger.record_check_counts(con, suite.name, run_id, rules_digest(suite),
                                       validated[suite.name].counts)
            results.append((validated[suite.name], None))
            continue
        state, recorded = carried[suite.name]
        ages = {(e.expectation_type, e.configuration.kwargs.get("column")): e
                for e in suite.ages()}
        outcomes, aged = [], []
        for row in recorded:
            outcome, validated_at = _recorded_outcome(suite.name, row)
            expectation = ages.get((outcome.expectation, outcome.column))
            if expectation is not None:
                outcome = aged_outcome(outcome, expectation.configuration.kwargs,
                                       _days_since(con, validated_at))
                aged.append(outcome)
            outcomes.append(outcome)
        result = SuiteResult(suite, outcomes, 0.0)
        ledger.record_results(con, run_id, _rows(SuiteResult(suite, aged, 0.0)))
        results.append((result, f"{state.run_id} (validated {state.checked_at:%Y-%m-%d %H:%M})"))
    ledger.record_results(con, run_id, [row for r in validated.values() for row in _rows(r)])
    return results


def _days_since(con, validated_at) -> int:
    return con.execute("select date_diff('day', cast(? as timestamptz), current_timestamp)",
                       [validated_at]).fetchone()[0]


def rules_digest(suite: Suite) -> str:
    """The suite's fingerprint without the share of bad rows its rules tolerate (`mostly`,
    which follows the row count): equal digests apply the same rules to every row."""
    definition = suite.definition()
    for config in definition["expectations"]:
        config.get("kwargs", {}).pop("mostly", None)
    return ledger.digest(definition)


# Expectations whose whole-table outcome follows from the recorded one and the added rows'.
COLUMN_MAPS = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set",
               "expect_column_values_to_be_between"}
SAME_COLUMNS = "expect_table_columns_to_match_set"  # same table, same columns
ROW_COUNT = "expect_table_row_count_to_be_between"
COLUMN_MIN = "expect_column_min_to_be_between"  # the freshness age (suite.ages())


def _added_files(con, suite: Suite, state, files: dict[str, str],
                 row_count: int) -> list[str] | None:
    """The files added since the suite's last validation when nothing else changed: its
    rules are the same (only the tolerated share may differ), its entity's files then are
    all still there unchanged, and the table grew by exactly the added files' rows (raw
    rows changed in place clear the check state: ledger.forget). Else None."""
    if state is None or ledger.check_counts(con, suite.name, state.run_id) is None:
        return None
    if ledger.check_counts(con, suite.name, state.run_id)[0] != rules_digest(suite):
        return None
    types = {e.expectation_type for e in suite.expectations}
    ages = {id(e) for e in suite.ages()}
    if not types <= COLUMN_MAPS | {SAME_COLUMNS, ROW_COUNT, COLUMN_MIN} or any(
            e.expectation_type == COLUMN_MIN and id(e) not in ages for e in suite.expectations):
        return None
    return ledger.added_files(con, suite.asset[-1], state.files, files, state.row_count,
                              row_count)


def _grown_result(con, suite: Suite, state, recorded: list[tuple],
                  added: list[str]) -> SuiteResult | None:
    """The suite's result on the whole table, from its recorded result on the rows it had
    and a validation of the added files' rows alone: counts add up, the share is taken
    over the sums and compared with `mostly` as GX does, the sample is the first rows in
    table order (the old rows come first: a load appends), the row count is the table's,
    the newest row's age is the smaller of the added rows' newest and the recorded one aged
    by the days since (a day boundary count adds up). None when a count is missing."""
    started = time.perf_counter()
    # The freshness age is given to the rows at the newest time; over the added rows that
    # is their own newest (the whole table's newest is the later of theirs and the old
    # rows', and the smaller age of the two is taken below), not a scan of every old row.
    new = run_suites(con, [suite.over(
        f"(select * from raw.{identifier(suite.asset[-1])} "
        f"where _source_file in ({literal_list(added)}))")])[0]
    _, old_counts = ledger.check_counts(con, suite.name, state.run_id)
    old = {}
    for row, counts in zip(recorded, old_counts, strict=False):
        outcome, validated_at = _recorded_outcome(suite.name, row)
        old[(outcome.expectation, outcome.column, outcome.rule)] = (outcome, counts, validated_at)
    if len(old) != len(recorded) or len(old_counts) != len(recorded) \
            or len(new.outcomes) != len(recorded):
        return None
    configs = {(e.expectation_type, e.configuration.kwargs.get("column")
                or e.configuration.kwargs.get("column_A")): e.configuration.kwargs
               for e in suite.expectations}
    table = f"raw.{identifier(suite.asset[-1])}"
    total_rows = con.execute(f"select count(*) from {table}").fetchone()[0]
    outcomes, counts = [], []
    for outcome, new_counts in zip(new.outcomes, new.counts, strict=True):
        key = (outcome.expectation, outcome.column, outcome.rule)
        if key not in old:
            return None
        before, before_counts, validated_at = old[key]
        kwargs = configs[(outcome.expectation, outcome.column)]
        days = _days_since(con, validated_at) if outcome.expectation == COLUMN_MIN else 0
        combined = _combined(outcome, new_counts, before, before_counts, kwargs, total_rows,
                             days)
        if combined is None:
            return None
        outcomes.append(combined[0])
        counts.append(combined[1])
    return SuiteResult(suite, outcomes, time.perf_counter() - started, counts)


def _combined(new: Outcome, new_counts: tuple, old: Outcome, old_counts: tuple, kwargs: dict,
              total_rows: int, days: int) -> tuple[Outcome, tuple] | None:
    """One expectation's whole-table outcome and counts (see _grown_result), or None."""
    if new.expectation == SAME_COLUMNS:
        return new, new_counts
    if new.expectation == ROW_COUNT:
        return replace(new, observed_value=str(total_rows),
                       success=_between(total_rows, kwargs)), new_counts
    if new.expectation == COLUMN_MIN:
        ages = [int(float(o.observed_value)) for o in (new, aged_outcome(old, kwargs, days))
                if o.observed_value is not None and not o.observed_value.startswith("error")]
        if new.observed_value is not None and new.observed_value.startswith("error"):
            return None
        if not ages:
            return replace(new, success=False), new_counts
        age = min(ages)
        return replace(new, observed_value=str(age), success=_between(age, kwargs)), new_counts
    (old_elements, old_missing), (new_elements, new_missing) = old_counts, new_counts
    if None in (old_elements, new_elements, old.unexpected_count, new.unexpected_count) \
            or (old_missing is None) != (new_missing is None):
        return None
    elements = old_elements + new_elements
    unexpected = old.unexpected_count + new.unexpected_count
    mostly = kwargs.get("mostly", 1.0)
    if new_missing is None:  # not_null: every row is considered (GX's own _validate)
        missing = None
        considered = elements
        percent = unexpected / elements * 100 if elements > 0 else None
    else:
        missing = old_missing + new_missing
        considered = elements - missing
        percent = unexpected / considered * 100 if elements > 0 and considered > 0 else None
    if elements == 0 or considered == 0:
        success = True  # vacuously, as GX decides
    else:
        success = (float(considered) - float(unexpected)) / float(considered) >= mostly
    return replace(new, success=success, unexpected_count=unexpected,
                   unexpected_percent=percent, sample=(old.sample + new.sample)[:5]), \
        (elements, missing)


def _between(value, kwargs: dict) -> bool:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if kwargs.get("strict_min") or kwargs.get("strict_max"):
        raise ValueError("strict bounds are not combined by the ledger")
    return (low is None or value >= low) and (high is None or value <= high)


def aged_outcome(outcome: Outcome, kwargs: dict, days: int) -> Outcome:
    """A recorded age-in-days outcome (the newest row's age), `days` later: the same data
    is that many days older. Success as GX decides a min between bounds (inclusive)."""
    if outcome.observed_value is None or outcome.observed_value.startswith("error"):
        return outcome
    age = int(float(outcome.observed_value)) + days
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if kwargs.get("strict_min") or kwargs.get("strict_max"):
        raise ValueError(f"{outcome.suite}: strict age bounds are not aged by the ledger")
    return replace(outcome, observed_value=str(age),
                   success=(low is None or age >= low) and (high is None or age <= high))


def _recorded_outcome(suite: str, row: tuple) -> tuple[Outcome, object]:
    """An audit.dq_results row as the Outcome it recorded, and when it was validated."""
    (expectation, column, rule, severity, success, observed, unexpected_count,
     unexpected_percent, sample, _seconds, validated_at) = row
    return Outcome(suite, expectation, column, rule, severity, success, observed,
                   unexpected_count, unexpected_percent,
                   json.loads(sample) if sample else []), validated_at


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
            ledger.record_reconciliation(con, context.run.run_id)
        results = run_suites(con, suites)
        ledger.record_results(con, context.run.run_id,
                              [row for result in results for row in _rows(result)])
    context.log.info(f"validated {len(suites)} suite(s) in {time.perf_counter() - started:.1f} s")
    for result in results:
        yield check_result(result)


def check_result(result: SuiteResult, carried_from: str | None = None) -> AssetCheckResult:
    """The check's result; `carried_from` names the run whose validation it repeats."""
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
            "validated": ("now" if carried_from is None else
                          f"unchanged since run {carried_from}: outcome carried over"
                          + (", freshness aged by the days since" if result.suite.ages()
                             else "")),
        },
    )


def _rows(result: SuiteResult) -> list[tuple]:
    """The suite's outcomes as audit.dq_results rows (ledger.record_results)."""
    return [("/".join(result.suite.asset), o.suite, o.expectation, o.column, o.rule,
             o.severity, o.success, o.observed_value, o.unexpected_count,
             o.unexpected_percent, json.dumps(o.sample, ensure_ascii=False), result.seconds)
            for o in result.outcomes]
