"""A drop that grows: only new files are read, only what they feed is rebuilt, and the
marts still answer for the whole drop."""

from __future__ import annotations

import pytest
from dagster import AssetKey

from tests.conftest import query, run_pipeline, write, write_tiny_drop

pytestmark = pytest.mark.xdist_group("incremental")


def _built(result) -> set[str]:
    return {"/".join(e.asset_key.path) for e in result.get_asset_materialization_events()}


def test_one_more_day_rebuilds_what_the_new_orders_feed(tmp_path):
    drop, warehouse = tmp_path / "drop", tmp_path / "wh.duckdb"
    write_tiny_drop(drop)
    assert run_pipeline(drop, warehouse, quarantine_limit=0.5).success
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

    unchanged = run_pipeline(drop, warehouse, quarantine_limit=0.5)
    assert unchanged.success
    assert not any(key.startswith(("staging/", "intermediate/", "marts/"))
                   for key in _built(unchanged))
    assert AssetKey(["raw", "orders"]) in {
        e.asset_key for e in unchanged.get_asset_materialization_events()}
