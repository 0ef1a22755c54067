"""Reorder alerts on a hand-computed case (formulas in ml/inventory.py)."""

from __future__ import annotations

import math
from datetime import date

import duckdb
import pandas as pd
import pytest

from ml.inventory import reorder_alerts, stock_positions

Z95 = 1.6448536269514722  # normal quantile of 0.95
SPREAD = 2 * 1.2815515655446004  # p90 - p10 of a normal with sd 1


def _forecast() -> pd.DataFrame:
    """Three days after origin 2026-01-10. Spreads are chosen so the daily sd is 1, 2, 2 (A)
    and 0 (B, C, D)."""
    rows = []
    plan = {"A": ([2, 3, 4], [1, 2, 2]), "B": ([1, 1, 1], [0, 0, 0]),
            "C": ([5, 5, 5], [0, 0, 0]), "D": ([1, 1, 1], [0, 0, 0])}
    for product, (means, sds) in plan.items():
        for h, (mean, sd) in enumerate(zip(means, sds, strict=True), start=1):
            rows.append({"product_id": product, "horizon_day": h,
                         "forecast_date": pd.Timestamp(2026, 1, 10 + h),
                         "p10_units": mean - sd * SPREAD / 2, "p50_units": mean,
                         "p90_units": mean + sd * SPREAD / 2, "mean_units": float(mean)})
    return pd.DataFrame(rows)


def _stock() -> pd.DataFrame:
    return pd.DataFrame({
        "product_id": ["A", "B", "C"],
        "snapshot_date": [date(2026, 1, 7)] * 3,
        "on_hand_units": [10.0, 0.0, 6.0], "on_order_units": [0.0, 5.0, 0.0],
        "sold_since_snapshot_units": [3.0, 2.0, 2.0],
    })


def test_reorder_alerts_match_hand_computed_values():
    alerts = reorder_alerts(_forecast(), _stock(), lead_time_days=2,
                            service_level=0.95).set_index("product_id")
    a, b, c, d = (alerts.loc[p] for p in "ABCD")
    # A: lead-time demand 2 + 3 = 5; safety stock z * sqrt(1 + 4); position 10 - 3 = 7.
    assert a["lead_time_demand_units"] == pytest.approx(5)
    assert a["safety_stock_units"] == pytest.approx(Z95 * math.sqrt(5))
    assert a["reorder_point_units"] == pytest.approx(5 + Z95 * math.sqrt(5))  # 8.68 >= 7
    assert a["stock_position_units"] == 7 and bool(a["needs_reorder"])
    # Cumulative mean 2, 5, 9 passes 7 on day 3; with z * sd (1, sqrt 5, 3) already on day 2.
    assert a["expected_stockout_date"] == pd.Timestamp(2026, 1, 13)
    assert a["stockout_risk_date"] == pd.Timestamp(2026, 1, 12)
    assert a["alert_level"] == "reorder"  # expected stock-out after the 2-day lead time
    assert a["suggested_order_units"] == math.ceil(9 + Z95 * 3 - 7)  # 7
    # B: on hand 0 (2 sold since the snapshot cannot make it negative) + 5 on order.
    assert b["on_hand_units"] == 0 and b["stock_position_units"] == 5
    assert b["reorder_point_units"] == pytest.approx(2) and not bool(b["needs_reorder"])
    assert pd.isna(b["expected_stockout_date"]) and pd.isna(b["stockout_risk_date"])
    assert b["alert_level"] == "ok" and b["suggested_order_units"] == 0
    # C: position 4 < 5 units expected on day 1: out of stock before any reorder arrives.
    assert c["expected_stockout_date"] == pd.Timestamp(2026, 1, 11)
    assert c["alert_level"] == "stock_out_risk" and c["suggested_order_units"] == 11
    # D has no snapshot.
    assert d["alert_level"] == "no_stock_data" and pd.isna(d["suggested_order_units"])
    assert (alerts["forecast_origin_date"] == pd.Timestamp(2026, 1, 10)).all()


def test_lead_time_must_lie_within_the_horizon():
    with pytest.raises(ValueError, match="lead time 5 days"):
        reorder_alerts(_forecast(), _stock(), lead_time_days=5)


def test_stock_position_uses_the_latest_snapshot_up_to_the_origin():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("""create table marts.fct_inventory_snapshots as select * from (values
        (date '2026-01-01', 'A', 'WH-1', 50, 0), (date '2026-01-07', 'A', 'WH-1', 10, 4),
        (date '2026-01-07', 'A', 'WH-2', 5, 0), (date '2026-01-14', 'A', 'WH-1', 99, 0),
        (date '2026-01-03', 'B', 'WH-1', 8, 1))
        as t(snapshot_date, product_id, warehouse_id, on_hand_qty, on_order_qty)""")
    con.execute("""create table marts.fct_order_items as select * from (values
        ('A', date '2026-01-07', 1, true), ('A', date '2026-01-08', 2, true),
        ('A', date '2026-01-09', 7, false), ('A', date '2026-01-10', 3, true),
        ('A', date '2026-01-11', 5, true), ('B', date '2026-01-02', 4, true))
        as t(product_id, order_date, quantity, is_counted)""")
    positions = stock_positions(con, date(2026, 1, 10)).set_index("product_id")
    # A: the 2026-01-07 snapshot over both warehouses; counted units sold on 8th and 10th.
    assert positions.loc["A", "on_hand_units"] == 15 and positions.loc["A", "on_order_units"] == 4
    assert positions.loc["A", "sold_since_snapshot_units"] == 5
    assert positions.loc["B", "sold_since_snapshot_units"] == 0  # sold before its snapshot
