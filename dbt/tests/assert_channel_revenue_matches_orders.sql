{{ config(meta={'dagster': {'ref': {'name': 'channels'}}}) }}
-- Every counted order's net revenue lands in exactly one channel-day of the channels mart.
with mart as (
    select sum(net_revenue_amount) as revenue, sum(order_count) as order_count
    from {{ ref('channels') }}
),

facts as (
    select sum(net_revenue_amount) as revenue, count(*) as order_count
    from {{ ref('fct_orders') }}
    where is_counted
)

select mart.revenue, facts.revenue, mart.order_count, facts.order_count
from mart
cross join facts
where abs(coalesce(mart.revenue, 0) - coalesce(facts.revenue, 0)) > 0.01
   or coalesce(mart.order_count, 0) <> coalesce(facts.order_count, 0)
