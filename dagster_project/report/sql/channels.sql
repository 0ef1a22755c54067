-- Channels and attribution: spend and return per channel under the five attribution
-- models of marts.fct_order_attribution (first touch, last touch, linear, time decay,
-- position based), and the funnel by channel and device. Whole history of the warehouse.
-- ROAS = attributed net revenue / spend; CAC = paid spend / customers acquired (the
-- model's attributed new customers); a zero denominator gives null (metrics.md).

-- name: attribution
-- One row per channel and attribution model.
with totals as (
    select
        channel_id,
        channel_name,
        is_paid,
        sum(spend_amount) as spend_amount,
        sum(attributed_revenue_first_touch_amount) as revenue_first_touch,
        sum(attributed_customers_first_touch_count) as customers_first_touch,
        sum(attributed_revenue_last_touch_amount) as revenue_last_touch,
        sum(attributed_customers_last_touch_count) as customers_last_touch,
        sum(attributed_revenue_linear_amount) as revenue_linear,
        sum(attributed_customers_linear_count) as customers_linear,
        sum(attributed_revenue_time_decay_amount) as revenue_time_decay,
        sum(attributed_customers_time_decay_count) as customers_time_decay,
        sum(attributed_revenue_position_based_amount) as revenue_position_based,
        sum(attributed_customers_position_based_count) as customers_position_based
    from marts.channels
    group by channel_id, channel_name, is_paid
),

per_model as (
    select channel_id, channel_name, is_paid, spend_amount, 1 as model_order,
        'first touch' as attribution_model,
        revenue_first_touch as attributed_revenue_amount,
        customers_first_touch as attributed_customer_count
    from totals
    union all
    select channel_id, channel_name, is_paid, spend_amount, 2, 'last touch',
        revenue_last_touch, customers_last_touch
    from totals
    union all
    select channel_id, channel_name, is_paid, spend_amount, 3, 'linear',
        revenue_linear, customers_linear
    from totals
    union all
    select channel_id, channel_name, is_paid, spend_amount, 4, 'time decay',
        revenue_time_decay, customers_time_decay
    from totals
    union all
    select channel_id, channel_name, is_paid, spend_amount, 5, 'position based',
        revenue_position_based, customers_position_based
    from totals
)

select
    channel_name,
    is_paid,
    attribution_model,
    spend_amount,
    attributed_revenue_amount,
    attributed_customer_count,
    attributed_revenue_amount / nullif(spend_amount, 0) as return_on_ad_spend,
    case when is_paid then spend_amount / nullif(attributed_customer_count, 0) end
        as customer_acquisition_cost_amount
from per_model
order by channel_name, model_order;

-- name: spend_and_revenue
-- One row per channel: spend and the net revenue of the orders it took (the order's own
-- channel), whole history.
select
    channel_name,
    is_paid,
    sum(spend_amount) as spend_amount,
    sum(net_revenue_amount) as net_revenue_amount,
    sum(order_count) as order_count,
    sum(session_count) as session_count
from marts.channels
group by channel_name, is_paid
order by net_revenue_amount desc;

-- name: funnel_by_channel
-- Per channel (the session's channel): sessions, and the share of them reaching each step.
with steps as (
    select
        coalesce(channels.channel_name, funnel.channel_id) as channel_name,
        sum(funnel.session_count) as session_count,
        sum(funnel.product_view_session_count) as product_view_session_count,
        sum(funnel.add_to_cart_session_count) as add_to_cart_session_count,
        sum(funnel.checkout_session_count) as checkout_session_count,
        sum(funnel.purchase_session_count) as purchase_session_count
    from marts.funnel_daily as funnel
    left join marts.dim_channels as channels on funnel.channel_id = channels.channel_id
    group by 1
)

select
    channel_name,
    session_count,
    product_view_session_count / nullif(session_count, 0) as product_view_share,
    add_to_cart_session_count / nullif(session_count, 0) as add_to_cart_share,
    checkout_session_count / nullif(session_count, 0) as checkout_share,
    purchase_session_count / nullif(session_count, 0) as purchase_share
from steps
order by session_count desc;

-- name: funnel_by_device
-- Per device: sessions, and the share of them reaching each funnel step.
with steps as (
    select
        coalesce(device, 'unknown') as device,
        sum(session_count) as session_count,
        sum(product_view_session_count) as product_view_session_count,
        sum(add_to_cart_session_count) as add_to_cart_session_count,
        sum(checkout_session_count) as checkout_session_count,
        sum(purchase_session_count) as purchase_session_count
    from marts.funnel_daily
    group by 1
)

select
    device,
    session_count,
    product_view_session_count / nullif(session_count, 0) as product_view_share,
    add_to_cart_session_count / nullif(session_count, 0) as add_to_cart_share,
    checkout_session_count / nullif(session_count, 0) as checkout_share,
    purchase_session_count / nullif(session_count, 0) as purchase_share
from steps
order by session_count desc;
