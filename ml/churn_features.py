"""Point-in-time churn features and labels at a cutoff.

Every fact is read with its own timestamp strictly before the cutoff (midnight UTC that
starts the cutoff date): orders by ordered_at, events by occurred_at, reviews by created_at,
campaign memberships by assigned_at, and a membership's response (opened, clicked,
converted) only once its window ended before the cutoff. Customer attributes (channel,
membership level, consent) come from dim_customers as they are now: the warehouse keeps
no history of them.

Population: customers with a counted order in the `active_days` before the cutoff (people
who lapsed longer ago are not scored: they would make every method look good). Label
(metrics.md): churned = no counted order in [cutoff, cutoff + horizon).
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
from lifetimes.utils import ConvergenceError

from .bgnbd import BgNbd
from .errors import NotEnoughData

CATEGORICAL = ["acquisition_channel", "membership_level"]
FEATURES = [
    "recency_days", "tenure_days", "customer_age_days", "order_count", "order_days",
    "orders_30d", "orders_90d", "orders_91_180d", "orders_365d", "order_trend_90d",
    "mean_days_between_orders", "overdue_ratio", "last_gap_days", "gap_trend",
    "revenue_total", "revenue_365d", "average_order_value", "monetary_trend",
    "bgnbd_expected_purchases", "bgnbd_probability_alive", "coupon_order_share",
    "campaign_order_share",
    "sessions_30d", "sessions_31_90d", "session_trend", "days_since_last_session",
    "product_views_30d", "carts_30d", "events_90d",
    "review_count", "rating_mean", "rating_mean_90d", "rating_trend", "negative_reviews_90d",
    "campaigns_assigned", "campaign_open_share", "campaign_click_share",
    "campaign_conversion_share", "is_marketing_opt_in", *CATEGORICAL,
]

_SQL = """
with orders as (
    select customer_id, ordered_at, order_date, net_revenue_amount::double as revenue,
           has_coupon, campaign_id is not null as has_campaign
    from marts.fct_orders
    where is_counted and customer_id <> '-1' and ordered_at < $cutoff
),

order_stats as (
    select
        customer_id,
        count(*) as order_count,
        count(distinct order_date) as order_days,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        max(order_date) as last_order_date,
        count(*) filter (where ordered_at >= $cutoff - interval 30 day) as orders_30d,
        count(*) filter (where ordered_at >= $cutoff - interval 90 day) as orders_90d,
        count(*) filter (where ordered_at < $cutoff - interval 90 day
                         and ordered_at >= $cutoff - interval 180 day) as orders_91_180d,
        count(*) filter (where ordered_at >= $cutoff - interval 365 day) as orders_365d,
        sum(revenue) as revenue_total,
        coalesce(sum(revenue) filter (where ordered_at >= $cutoff - interval 365 day), 0)
            as revenue_365d,
        avg(revenue) as average_order_value,
        arg_max(revenue, ordered_at) as last_order_revenue,
        avg(has_coupon::int) as coupon_order_share,
        avg(has_campaign::int) as campaign_order_share
    from orders
    group by customer_id
),

population as (
    select order_stats.*
    from order_stats
    where last_order_at >= $cutoff - to_days(cast($active_days as integer))
),

-- The last gap: from the latest order date before the last one to the last one (none for
-- a customer who ordered on one day). An aggregate, not a window over every order date.
gap_stats as (
    select orders.customer_id,
           date_diff('day', max(orders.order_date), any_value(population.last_order_date))
               as last_gap_days
    from orders
    inner join population using (customer_id)
    where orders.order_date < population.last_order_date
    group by orders.customer_id
),

events as (
    select customer_id, occurred_at, event_type, is_session_start
    from marts.fct_events
    where customer_id in (select customer_id from population)
      and occurred_at < $cutoff and occurred_at >= $cutoff - interval 365 day
),

event_stats as (
    select
        customer_id,
        count(*) filter (where is_session_start and occurred_at >= $cutoff - interval 30 day)
            as sessions_30d,
        count(*) filter (where is_session_start and occurred_at < $cutoff - interval 30 day
                         and occurred_at >= $cutoff - interval 90 day) as sessions_31_90d,
        max(occurred_at) as last_event_at,
        count(*) filter (where event_type = 'product_view'
                         and occurred_at >= $cutoff - interval 30 day) as product_views_30d,
        count(*) filter (where event_type = 'add_to_cart'
                         and occurred_at >= $cutoff - interval 30 day) as carts_30d,
        count(*) filter (where occurred_at >= $cutoff - interval 90 day) as events_90d
    from events
    group by customer_id
),

review_stats as (
    select
        customer_id,
        count(*) as review_count,
        avg(rating) as rating_mean,
        avg(rating) filter (where created_at >= $cutoff - interval 90 day) as rating_mean_90d,
        avg(rating) filter (where created_at < $cutoff - interval 90 day) as rating_mean_before,
        count(*) filter (where is_negative and created_at >= $cutoff - interval 90 day)
            as negative_reviews_90d
    from marts.fct_reviews
    where created_at < $cutoff and customer_id <> '-1'
    group by customer_id
),

member_stats as (
    select
        customer_id,
        count(*) as campaigns_assigned,
        avg(is_opened::int) filter (where resolved) as campaign_open_share,
        avg(is_clicked::int) filter (where resolved) as campaign_click_share,
        avg(has_converted::int) filter (where resolved) as campaign_conversion_share
    from (
        select customer_id, is_opened, is_clicked, has_converted,
               test_group = 'treatment' and window_ends_at < $cutoff as resolved
        from marts.fct_campaign_members
        where assigned_at < $cutoff
    ) as memberships
    group by customer_id
),

labels as (
    select distinct customer_id
    from marts.fct_orders
    where is_counted and ordered_at >= $cutoff
      and ordered_at < $cutoff + to_days(cast($horizon_days as integer))
)

select
    population.customer_id,
    cast($cutoff as date) as cutoff_date,
    date_diff('day', population.last_order_at, $cutoff) as recency_days,
    date_diff('day', coalesce(least(customers.signup_at, population.first_order_at),
                              population.first_order_at), $cutoff) as tenure_days,
    date_diff('day', population.first_order_at, $cutoff) as customer_age_days,
    population.order_count,
    population.order_days,
    population.orders_30d,
    population.orders_90d,
    population.orders_91_180d,
    population.orders_365d,
    population.orders_90d - population.orders_91_180d as order_trend_90d,
    case when population.order_days > 1 then date_diff('day', population.first_order_at,
        population.last_order_at) / (population.order_days - 1) end as mean_days_between_orders,
    gap_stats.last_gap_days,
    population.revenue_total,
    population.revenue_365d,
    population.average_order_value,
    population.last_order_revenue,
    population.coupon_order_share,
    population.campaign_order_share,
    coalesce(event_stats.sessions_30d, 0) as sessions_30d,
    coalesce(event_stats.sessions_31_90d, 0) as sessions_31_90d,
    date_diff('day', event_stats.last_event_at, $cutoff) as days_since_last_session,
    coalesce(event_stats.product_views_30d, 0) as product_views_30d,
    coalesce(event_stats.carts_30d, 0) as carts_30d,
    coalesce(event_stats.events_90d, 0) as events_90d,
    coalesce(review_stats.review_count, 0) as review_count,
    review_stats.rating_mean,
    review_stats.rating_mean_90d,
    review_stats.rating_mean_90d - review_stats.rating_mean_before as rating_trend,
    coalesce(review_stats.negative_reviews_90d, 0) as negative_reviews_90d,
    coalesce(member_stats.campaigns_assigned, 0) as campaigns_assigned,
    member_stats.campaign_open_share,
    member_stats.campaign_click_share,
    member_stats.campaign_conversion_share,
    coalesce(customers.is_marketing_opt_in, false) as is_marketing_opt_in,
    coalesce(customers.acquisition_channel_id, 'unknown') as acquisition_channel,
    coalesce(customers.membership_level, 'unknown') as membership_level,
    coalesce(channels.channel_name, 'an unknown channel') as acquisition_channel_name,
    -- BG/NBD summary in whole days: repeat purchase days, age at the last order and now
    population.order_days - 1 as bgnbd_frequency,
    date_diff('day', population.first_order_at::date, population.last_order_at::date)
        as bgnbd_recency,
    date_diff('day', population.first_order_at::date, $cutoff::date) as bgnbd_age,
    labels.customer_id is null as is_churned
from population
left join marts.dim_customers as customers using (customer_id)
left join marts.dim_channels as channels
    on channels.channel_id = customers.acquisition_channel_id
left join gap_stats using (customer_id)
left join event_stats using (customer_id)
left join review_stats using (customer_id)
left join member_stats using (customer_id)
left join labels using (customer_id)
order by population.customer_id
"""


def churn_frame(con: duckdb.DuckDBPyConnection, cutoff: date, horizon_days: int = 90,
                active_days: int = 365) -> pd.DataFrame:
    """Features, BG/NBD summary and label of every active customer at the cutoff. The label
    is only meaningful when the data reaches cutoff + horizon - 1 days.

    BG/NBD is fitted at this cutoff on every customer's orders before it (frame.attrs
    ["bgnbd"]), and its expected purchases in the horizon and P(alive) become features:
    the model starts from what BG/NBD knows, with no order on or after the cutoff read."""
    frame = con.execute(_SQL, {"cutoff": pd.Timestamp(cutoff).to_pydatetime(),
                               "horizon_days": horizon_days,
                               "active_days": active_days}).df()
    model = _fit_bgnbd(bgnbd_summary(con, cutoff))
    summary = [frame[c].astype(float) for c in ("bgnbd_frequency", "bgnbd_recency",
                                                "bgnbd_age")]
    if model is not None and len(frame):
        frame["bgnbd_expected_purchases"] = model.expected_purchases(horizon_days, *summary)
        frame["bgnbd_probability_alive"] = model.probability_alive(*summary)
        frame["bgnbd_probability_no_purchase"] = model.probability_no_purchase(
            horizon_days, *summary)
    else:
        for column in ("bgnbd_expected_purchases", "bgnbd_probability_alive",
                       "bgnbd_probability_no_purchase"):
            frame[column] = pd.Series(dtype=float)
    frame.attrs["bgnbd"] = model
    frame["session_trend"] = (frame["sessions_30d"] * 2 + 1) / (frame["sessions_31_90d"] + 1)
    frame["overdue_ratio"] = frame["recency_days"] / frame["mean_days_between_orders"]
    # Inter-purchase time and spend trends: the last gap against the customer's mean gap,
    # the last order's value against the mean order value (NaN over a zero mean).
    frame["gap_trend"] = frame["last_gap_days"] / frame["mean_days_between_orders"]
    frame["monetary_trend"] = (frame["last_order_revenue"]
                               / frame["average_order_value"].where(
                                   frame["average_order_value"] > 0))
    frame["is_marketing_opt_in"] = frame["is_marketing_opt_in"].astype(bool)
    return frame


def _fit_bgnbd(everyone: pd.DataFrame) -> BgNbd | None:
    """BG/NBD by maximum likelihood; with a small L2 penalty when the plain fit does not
    converge (a few customers); None when neither does: its features are then missing."""
    if everyone.empty:
        return None
    for penalizer in (0.0, 0.01):
        try:
            return BgNbd.fit(everyone["frequency"], everyone["recency"], everyone["age"],
                             penalizer=penalizer)
        except ConvergenceError:
            continue
    return None


def bgnbd_summary(con: duckdb.DuckDBPyConnection, cutoff: date) -> pd.DataFrame:
    """BG/NBD's summary of every customer with a counted order before the cutoff, lapsed
    ones too (BG/NBD learns drop-out from them): repeat purchase days, age at the last
    order and at the cutoff, in whole days."""
    return con.execute("""
        select customer_id,
               count(distinct order_date) - 1 as frequency,
               date_diff('day', min(ordered_at)::date, max(ordered_at)::date) as recency,
               date_diff('day', min(ordered_at)::date, $cutoff::date) as age
        from marts.fct_orders
        where is_counted and customer_id <> '-1' and ordered_at < $cutoff
        group by customer_id
        order by customer_id
    """, {"cutoff": pd.Timestamp(cutoff).to_pydatetime()}).df()


def last_order_date(con: duckdb.DuckDBPyConnection) -> date:
    """The newest order date in the warehouse: labels are complete up to it."""
    return _order_date(con, "max")


def first_order_date(con: duckdb.DuckDBPyConnection) -> date:
    """The oldest order date in the warehouse: no cutoff before it has history."""
    return _order_date(con, "min")


def _order_date(con: duckdb.DuckDBPyConnection, which: str) -> date:
    value = con.execute(f"select {which}(order_date) from marts.fct_orders").fetchone()[0]
    if value is None:
        raise NotEnoughData("marts.fct_orders is empty: there is nothing to learn churn from")
    return value

