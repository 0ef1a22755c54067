"""A drop that grows: only new files are read, only what they feed is rebuilt and only
their entities' raw suites validated, and the marts still answer for the whole drop."""

from __future__ import annotations

import pytest
from dagster import AssetCheckSeverity, AssetKey

from tests.conftest import query, run_pipeline, write, write_tiny_drop

pytestmark = pytest.mark.xdist_group("incremental")


def _built(result) -> set[str]:
    return {"/".join(e.asset_key.path) for e in result.get_asset_materialization_events()}


def _raw_checks(result) -> dict[str, object]:
    return {e.asset_key.path[1]: e for e in result.get_asset_check_evaluations()
            if e.asset_key.path[0] == "raw"}


def _carried_from(result) -> dict[str, str | None]:
    """Per raw entity: the run its check's outcome was carried over from (None: validated
    in this run)."""
    carried = {}
    for entity, check in _raw_checks(result).items():
        text = check.metadata["validated"].value
        carried[entity] = None if text == "now" else text.split()[3]
    return carried


def _raw_rules_recorded(warehouse, run_id: str) -> list[tuple[str, str]]:
    return query(warehouse, "select suite, rule from audit.dq_results where run_id = "
                            f"'{run_id}' and suite like 'raw_%' order by all")


def test_one_more_day_rebuilds_what_the_new_orders_feed(tmp_path):
    drop, warehouse = tmp_path / "drop", tmp_path / "wh.duckdb"
    write_tiny_drop(drop)
    first = run_pipeline(drop, warehouse, quarantine_limit=0.5)
    assert first.success
    assert set(_carried_from(first).values()) == {None}  # a first build validates everything
    passed = {entity: check.passed for entity, check in _raw_checks(first).items()}
    before = query(warehouse, "select count(*), sum(net_revenue_amount) from marts.orders"
                              " where is_counted")[0]

    write(drop / "orders-0003.csv", """
order_id,customer_id,ordered_at,status,currency,subtotal_amount,discount_amount,shipping_amount,tax_amount,total_amount,channel_id,updated_at
o20,00003,2026-02-20T09:00:00Z,paid,USD,70,0,0,0,70,CH2,
""")
    grown = run_pipeline(drop, warehouse, quarantine_limit=0.5)
    assert grown.success
    built = _built(grown)
    assert {"marts/orders", "marts/customers", "staging/stg_shop__orders"} <= built
    assert "intermediate/int_sessions" not in built  # events did not change
    assert "staging/stg_shop__events" not in built
    after = query(warehouse, "select count(*), sum(net_revenue_amount) from marts.orders"
                             " where is_counted")[0]
    assert after == (before[0] + 1, pytest.approx(float(before[1]) + 70))
    assert query(warehouse, "select source_file, row_count from raw._load_log "
                            "where entity = 'orders' order by loaded_at desc limit 1") == [
        ("orders-0003.csv", 1)]
    # Only the orders suite is validated again (on 7 + 4 + 1 rows); the other checks repeat
    # the first run's outcome, and only their freshness (time-dependent) is evaluated now.
    carried = _carried_from(grown)
    assert carried.pop("orders") is None
    assert set(carried.values()) == {first.run_id} and len(carried) == 11
    assert query(warehouse, "select row_count, run_id from raw._check_state "
                            "where suite = 'raw_orders'") == [(12, grown.run_id)]
    assert {suite for suite, _ in _raw_rules_recorded(warehouse, grown.run_id)} == {
        "raw_orders", "raw_events"}
    assert [rule for suite, rule in _raw_rules_recorded(warehouse, grown.run_id)
            if suite == "raw_events"] == ["newest occurred_at at most 45 days old"]

    unchanged = run_pipeline(drop, warehouse, quarantine_limit=0.5)
    assert unchanged.success
    assert not any(key.startswith(("staging/", "intermediate/", "marts/"))
                   for key in _built(unchanged))
    assert AssetKey(["raw", "orders"]) in {
        e.asset_key for e in unchanged.get_asset_materialization_events()}
    # An unchanged drop re-validates nothing but freshness, and still reports every check.
    carried = _carried_from(unchanged)
    assert carried == {**{e: first.run_id for e in passed}, "orders": grown.run_id}
    assert {e: check.passed for e, check in _raw_checks(unchanged).items()} == passed
    assert _raw_rules_recorded(warehouse, unchanged.run_id) == [
        ("raw_events", "newest occurred_at at most 45 days old"),
        ("raw_orders", "newest ordered_at at most 45 days old")]


def test_changed_settings_and_a_bad_new_file_are_validated(tmp_path):
    drop, warehouse = tmp_path / "drop", tmp_path / "wh.duckdb"
    write_tiny_drop(drop)
    assert run_pipeline(drop, warehouse, quarantine_limit=0.5).success
    # A stricter tolerance changes every suite (25% of the rows, no floor of 10 rows): all
    # are validated again. The tiny drop's worst rule breaks 1 row in 5 (20%): all pass.
    stricter = {"quarantine_limit": 0.25, "quarantine_min_rows": 0}
    strict = run_pipeline(drop, warehouse, **stricter)
    assert strict.success
    assert set(_carried_from(strict).values()) == {None}
    assert all(check.passed or check.severity == AssetCheckSeverity.WARN
               for check in _raw_checks(strict).values())
    # One product of three with a price that is not a number: 33% > 25%. Only products is
    # validated; its check fails naming the new file and the row's line (header = line 1).
    write(drop / "products-0002.csv", """
product_id,product_name,category,list_price,currency
P3,Tea cup,Kitchen,abc,USD
""")
    broken = run_pipeline(drop, warehouse, **stricter)
    carried = _carried_from(broken)
    assert carried.pop("products") is None
    assert set(carried.values()) == {strict.run_id}
    products = _raw_checks(broken)["products"]
    assert not products.passed and products.severity == AssetCheckSeverity.ERROR
    failed = products.metadata["failed_details"].value
    assert [(f["rule"], f["unexpected_count"], f["sample"]) for f in failed] == [
        ("list_price is a number", 1, [{"_source_file": "products-0002.csv", "_source_line": 2,
                                        "list_price__parses": False}])]
    assert AssetKey(["marts", "customers"]) not in _built(broken)
