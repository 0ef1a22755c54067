"""The whole pipeline in-process on a hand-made drop whose answers were worked out by hand.

The drop (tests/conftest.py): o1 100-10 USD (CH1), o2 cancelled, o3 1,299.00-99 USD with a
newer 'delivered' version in the second file (CH2), o4 1000-100 CNY placed 2026-01-15 01:00
+08:00 = 2026-01-14 17:00 UTC at the 2026-01-01 rate 0.14 (CH2), o5 200 CNY on 2026-02-10 at
the 2026-02-01 rate 0.15 (CH2) and an exact duplicate of it, o6 with a bad timestamp, o7 in
KRW (no rate), o9 for an unknown customer (CH1), and an older version of o1 in file 2.
"""

from __future__ import annotations

import pytest

from tests.conftest import query

pytestmark = pytest.mark.xdist_group("tiny")


def test_orders_reconcile_with_quarantine_versions_and_duplicates(tiny_warehouse):
    # 7 rows in file 1 + 4 in file 2 = 11 raw; o6 and o7 quarantined; one exact duplicate of
    # o5; loaded 8, of which older o1 and older o3 are superseded: 6 current orders.
    got = query(tiny_warehouse, "select raw_row_count, loaded_row_count, quarantined_row_count,"
                                " exact_duplicate_count, superseded_version_count,"
                                " current_row_count from audit.load_reconciliation"
                                " where entity = 'orders'")
    assert got == [(11, 8, 2, 1, 2, 6)]
    reasons = query(tiny_warehouse, "select raw_order_id, rejection_reason, _source_file,"
                                    " _source_line from staging.stg_shop__orders_rejected"
                                    " order by 1")
    assert reasons == [("o6", "bad_timestamp:ordered_at", "orders-0001.csv", 7),
                       ("o7", "currency_without_rate", "orders-0001.csv", 8)]


def test_greatest_updated_at_wins_over_file_order(tiny_warehouse):
    got = query(tiny_warehouse, "select order_id, status from marts.fct_orders"
                                " where order_id in ('o1', 'o3') order by 1")
    assert got == [("o1", "delivered"), ("o3", "delivered")]


def test_offsets_are_converted_to_utc_dates(tiny_warehouse):
    assert query(tiny_warehouse, "select ordered_at, order_date from marts.fct_orders"
                                 " where order_id = 'o4'")[0][1].isoformat() == "2026-01-14"
    signup = query(tiny_warehouse, "select signup_at from staging.stg_shop__customers"
                                   " where customer_id = '00002'")[0][0]
    assert signup.isoformat() == "2026-01-05T00:00:00"


def test_customer_mart_values(tiny_warehouse):
    got = query(tiny_warehouse, """
        select customer_id, order_count, round(net_revenue_amount, 4),
               round(average_order_value_amount, 4), cast(first_order_date as varchar),
               acquisition_channel_id
        from marts.customers order by customer_id""")
    assert got == [
        # o1 net 90 + o3 net 1200 = 1290 over 2 orders (o2 cancelled does not count).
        ("00001", 2, 1290.0, 645.0, "2026-01-02", "CH1"),
        # o4 900 CNY * 0.14 = 126, o5 200 CNY * 0.15 = 30; channel from the first order.
        ("00002", 2, 156.0, 78.0, "2026-01-14", "CH2"),
        # o6 and o7 are quarantined: no counted order, AOV null (zero denominator).
        ("00003", 0, 0.0, None, None, "CH2"),
    ]


def test_unknown_customer_joins_the_unknown_member(tiny_warehouse):
    got = query(tiny_warehouse, "select customer_id, exported_customer_id, has_unknown_customer"
                                " from marts.fct_orders where order_id = 'o9'")
    assert got == [("-1", "99999", True)]
    assert query(tiny_warehouse, "select count(*) from marts.dim_customers"
                                 " where customer_id = '-1' and is_unknown_member") == [(1,)]


def test_new_and_returning_orders(tiny_warehouse):
    got = query(tiny_warehouse, "select order_id, customer_type from marts.orders order by 1")
    assert got == [("o1", "new"), ("o2", None), ("o3", "returning"), ("o4", "new"),
                   ("o5", "returning"), ("o9", None)]


def test_channels_mart_revenue_and_ratios(tiny_warehouse):
    got = query(tiny_warehouse, """
        select channel_id, cast(date_day as varchar), session_count, order_count,
               round(net_revenue_amount, 4), conversion_rate, return_on_ad_spend
        from marts.channels where channel_id = 'CH1' order by date_day""")
    # 2026-01-02: e1..e3 are one session from CH1 (e4 an hour later opens a session
    # without a channel); o1 is CH1's order that day: conversion 1/1. No spend: ROAS null.
    assert got == [("CH1", "2026-01-02", 1, 1, 90.0, 1.0, None),
                   ("CH1", "2026-02-15", 0, 1, 40.0, None, None)]


def test_quarantined_order_lines_and_malformed_json_are_kept(tiny_warehouse):
    assert query(tiny_warehouse, "select raw_order_id, raw_line_number, rejection_reason"
                                 " from staging.stg_shop__order_items_rejected") == [
        ("o4", "2", "negative_quantity")]
    assert query(tiny_warehouse, "select rejection_reason, _source_line"
                                 " from staging.stg_shop__events_rejected") == [
        ("malformed_record", 5)]


def test_personal_data_is_not_in_the_marts(tiny_warehouse):
    columns = {r[0] for r in query(tiny_warehouse, "select column_name from"
                                   " information_schema.columns where table_schema = 'marts'")}
    assert not columns & {"email", "phone", "first_name", "last_name"}
    assert "email_pseudonym" in columns


def test_funnel_steps_and_conversion(tiny_warehouse):
    got = query(tiny_warehouse, """
        select channel_id, device, session_count, product_view_session_count,
               add_to_cart_session_count, purchase_session_count, order_count,
               view_to_cart_rate, cart_to_checkout_rate, conversion_rate
        from marts.funnel_daily where date_day = date '2026-01-02' order by channel_id""")
    # Session 1 (e1..e3, CH1) views a product and purchases; session 2 (e4) has no channel.
    # o1 is CH1's counted order that day; neither events nor orders carry a device.
    assert got == [("-1", "unknown", 1, 0, 0, 0, 0, None, None, 0.0),
                   ("CH1", "unknown", 1, 1, 0, 1, 1, 0.0, None, 1.0)]


def test_attribution_falls_back_to_the_order_channel(tiny_warehouse):
    got = query(tiny_warehouse, """
        select order_id, channel_id, is_order_touch, touch_count, linear_weight,
               round(time_decay_revenue_amount, 4)
        from marts.fct_order_attribution order by order_id""")
    # o1 follows session 1 (09:50, CH1). Session 2 starts after o1 and 32 days before o3,
    # outside the 30-day lookback. o4 and o5 have no sessions; o9's customer is unknown.
    assert got == [("o1", "CH1", False, 1, 1.0, 90.0),
                   ("o3", "CH2", True, 1, 1.0, 1200.0),
                   ("o4", "CH2", True, 1, 1.0, 126.0),
                   ("o5", "CH2", True, 1, 1.0, 30.0),
                   ("o9", "CH1", True, 1, 1.0, 40.0)]
