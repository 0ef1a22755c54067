"""Churn features at a cutoff on tiny hand-made marts: values worked out by hand, and only
facts strictly before the cutoff count (an order at the cutoff's first second is a label)."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest

from ml.churn_features import FEATURES, churn_frame

CUTOFF = date(2026, 3, 1)

MARTS = {
    "fct_orders": ("customer_id, ordered_at, order_date, is_counted, net_revenue_amount, "
                   "has_coupon, campaign_id", """
        ('C1', timestamp '2025-06-01 10:00:00', date '2025-06-01', true, 100, true, null),
        ('C1', timestamp '2026-01-01 09:00:00', date '2026-01-01', true, 50, false, 'CMP1'),
        ('C1', timestamp '2026-02-20 09:00:00', date '2026-02-20', false, 999, false, null),
        ('C1', timestamp '2026-02-28 23:59:59', date '2026-02-28', true, 30, false, null),
        ('C1', timestamp '2026-03-01 00:00:00', date '2026-03-01', true, 70, false, null),
        ('C2', timestamp '2025-05-10 12:00:00', date '2025-05-10', true, 20, false, null),
        ('C3', timestamp '2024-12-01 12:00:00', date '2024-12-01', true, 20, false, null),
        ('C4', timestamp '2026-02-01 12:00:00', date '2026-02-01', false, 20, false, null),
        ('C5', timestamp '2026-03-05 12:00:00', date '2026-03-05', true, 20, false, null),
        ('-1', timestamp '2026-02-01 12:00:00', date '2026-02-01', true, 20, false, null)"""),
    "fct_events": ("customer_id, occurred_at, event_type, is_session_start", """
        ('C1', timestamp '2025-12-15 10:00:00', 'page_view', true),
        ('C1', timestamp '2026-01-15 10:00:00', 'page_view', true),
        ('C1', timestamp '2026-02-15 12:00:00', 'page_view', true),
        ('C1', timestamp '2026-02-15 12:01:00', 'product_view', false),
        ('C1', timestamp '2026-02-15 12:02:00', 'add_to_cart', false),
        ('C1', timestamp '2026-03-01 00:00:00', 'page_view', true)"""),
    "fct_reviews": ("customer_id, created_at, rating, is_negative", """
        ('C1', timestamp '2025-07-01 00:00:00', 5, false),
        ('C1', timestamp '2026-02-01 00:00:00', 2, true),
        ('C1', timestamp '2026-03-01 00:00:00', 1, true)"""),
    "fct_campaign_members": ("customer_id, test_group, assigned_at, window_ends_at, is_opened, "
                             "is_clicked, has_converted", """
        ('C1', 'treatment', timestamp '2025-12-20', timestamp '2026-01-10', true, false, true),
        ('C1', 'treatment', timestamp '2026-02-20', timestamp '2026-03-10', true, true, true),
        ('C1', 'treatment', timestamp '2026-03-01', timestamp '2026-03-20', true, true, true)"""),
    "dim_customers": ("customer_id, signup_at, is_marketing_opt_in, acquisition_channel_id, "
                      "membership_level", """
        ('C1', timestamp '2025-01-01', true, 'CH01', 'gold'),
        ('C2', timestamp '2025-05-01', false, null, 'bronze')"""),
    "dim_channels": ("channel_id, channel_name", "('CH01', 'Google Ads')"),
}


def _marts() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    for table, (columns, rows) in MARTS.items():
        con.execute(f"create table marts.{table} as select * from (values {rows}) as t({columns})")
    return con


def test_features_of_a_regular_and_a_lapsing_customer():
    frame = churn_frame(_marts(), CUTOFF).set_index("customer_id")
    assert list(frame.index) == ["C1", "C2"]  # C3 lapsed > 365 days, C4 cancelled, C5 later
    c1, c2 = frame.loc["C1"], frame.loc["C2"]
    assert not c1["is_churned"] and c2["is_churned"]  # C1 orders at the cutoff's first second
    assert c1["recency_days"] == 1 and c1["order_count"] == 3 and c1["order_days"] == 3
    assert (c1["orders_30d"], c1["orders_90d"], c1["orders_91_180d"]) == (1, 2, 0)
    assert c1["order_trend_90d"] == 2
    between = (date(2026, 2, 28) - date(2025, 6, 1)).days / 2  # 136 days
    assert c1["mean_days_between_orders"] == between
    assert c1["overdue_ratio"] == pytest.approx(1 / between)
    assert c1["revenue_total"] == 180 and c1["average_order_value"] == 60
    assert c1["coupon_order_share"] == pytest.approx(1 / 3)
    assert c1["campaign_order_share"] == pytest.approx(1 / 3)
    assert c1["tenure_days"] == (CUTOFF - date(2025, 1, 1)).days
    # Sessions: 1 in the last 30 days, 2 in the 60 before: the same rate.
    assert (c1["sessions_30d"], c1["sessions_31_90d"], c1["session_trend"]) == (1, 2, 1.0)
    assert c1["days_since_last_session"] == 14
    assert (c1["product_views_30d"], c1["carts_30d"], c1["events_90d"]) == (1, 1, 5)
    # Reviews: 5 stars last July, 2 stars in February; the 1 star at the cutoff is later.
    assert (c1["review_count"], c1["rating_mean"], c1["rating_mean_90d"]) == (2, 3.5, 2)
    assert c1["rating_trend"] == -3 and c1["negative_reviews_90d"] == 1
    # Two memberships assigned before the cutoff; only the first one's window has ended.
    assert c1["campaigns_assigned"] == 2
    assert (c1["campaign_open_share"], c1["campaign_click_share"],
            c1["campaign_conversion_share"]) == (1, 0, 1)
    assert c1["acquisition_channel_name"] == "Google Ads" and c1["membership_level"] == "gold"
    assert (c1["bgnbd_frequency"], c1["bgnbd_recency"], c1["bgnbd_age"]) == (2, 272, 273)
    assert c2["recency_days"] == (CUTOFF - date(2025, 5, 10)).days
    assert pd.isna(c2["mean_days_between_orders"]) and pd.isna(c2["rating_mean"])
    assert c2["acquisition_channel"] == "unknown" and not c2["is_marketing_opt_in"]
    assert (c2["sessions_30d"], c2["campaigns_assigned"]) == (0, 0)


def test_features_ignore_every_row_at_or_after_the_cutoff():
    full = churn_frame(_marts(), CUTOFF)
    con = _marts()
    for table, column in [("fct_orders", "ordered_at"), ("fct_events", "occurred_at"),
                          ("fct_reviews", "created_at"), ("fct_campaign_members", "assigned_at")]:
        con.execute(f"delete from marts.{table} where {column} >= timestamp '{CUTOFF}'")
    cut = churn_frame(con, CUTOFF)
    pd.testing.assert_frame_equal(full[["customer_id", *FEATURES]], cut[["customer_id", *FEATURES]])
    assert cut["is_churned"].all()  # without the later orders everyone looks churned


def test_frames_read_side_by_side_equal_frames_read_one_by_one():
    from ml.churn import ChurnSettings, read_frames

    con, settings = _marts(), ChurnSettings(num_threads=2)
    cutoffs = [date(2025, 9, 1), date(2026, 1, 1), CUTOFF, date(2026, 1, 1)]
    cache = {CUTOFF: "kept"}  # a frame already read is not read again
    read_frames(con, cutoffs, settings, cache)
    assert list(cache) == [CUTOFF, date(2025, 9, 1), date(2026, 1, 1)]
    assert cache[CUTOFF] == "kept"
    for cutoff in cutoffs[:2]:
        alone = churn_frame(con, cutoff, settings.horizon_days, settings.active_days)
        assert len(alone) > 0
        pd.testing.assert_frame_equal(cache[cutoff], alone, check_exact=True)


def test_the_last_gap_runs_between_the_last_two_order_dates():
    """C1 ordered (counted) on 2025-06-01, 2026-01-01 and 2026-02-28: the last gap is 58
    days; C6 twice on 2026-02-10 and once on 2026-01-31: 10 days (a second order on the
    same day is no gap); C2 ordered on one day only: no gap."""
    con = _marts()
    con.execute("""insert into marts.fct_orders by name select * from (values
        ('C6', timestamp '2026-01-31 08:00:00', date '2026-01-31', true, 10, false, null),
        ('C6', timestamp '2026-02-10 08:00:00', date '2026-02-10', true, 10, false, null),
        ('C6', timestamp '2026-02-10 18:00:00', date '2026-02-10', true, 10, false, null))
        as t(customer_id, ordered_at, order_date, is_counted, net_revenue_amount,
             has_coupon, campaign_id)""")
    frame = churn_frame(con, CUTOFF).set_index("customer_id")
    assert frame.loc["C1", "last_gap_days"] == 58
    assert frame.loc["C6", "last_gap_days"] == 10
    assert pd.isna(frame.loc["C2", "last_gap_days"])
