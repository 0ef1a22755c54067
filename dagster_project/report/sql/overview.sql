-- The overview's numbers. Periods end at the newest counted order date: "current" is the
-- last $period_days days, "previous" the same number of days before them.
-- Metric meanings follow metrics.md: counted orders, net revenue, AOV, new/returning
-- (orders of unknown customers are neither new nor returning).

-- name: headline
-- One row per period: net revenue, counted orders, AOV, new and returning customers.
with bounds as (
    select max(order_date) as end_date from marts.fct_orders where is_counted
),

periods as (
    select 'current' as period, 1 as period_order,
        cast(end_date - to_days(cast($period_days as integer) - 1) as date) as start_date,
        end_date
    from bounds
    union all
    select 'previous', 2,
        cast(end_date - to_days(2 * cast($period_days as integer) - 1) as date),
        cast(end_date - to_days(cast($period_days as integer)) as date)
    from bounds
),

orders as (
    select order_id, customer_id, order_date, net_revenue_amount, is_new_customer_order,
        not is_new_customer_order and not has_unknown_customer as is_returning_customer_order
    from marts.fct_orders
    where is_counted
)

select
    periods.period,
    periods.start_date,
    periods.end_date,
    coalesce(sum(orders.net_revenue_amount), 0) as net_revenue_amount,
    count(orders.order_id) as order_count,
    sum(orders.net_revenue_amount) / nullif(count(orders.order_id), 0)
        as average_order_value_amount,
    count(distinct case when orders.is_new_customer_order then orders.customer_id end)
        as new_customer_count,
    count(distinct case when orders.is_returning_customer_order then orders.customer_id end)
        as returning_customer_count
from periods
left join orders
    on orders.order_date between periods.start_date and periods.end_date
group by periods.period, periods.period_order, periods.start_date, periods.end_date
order by periods.period_order;

-- name: trend
-- One row per grain (week, month) and period start: the headline metrics, and net revenue
-- of the same period a year earlier (52 weeks or 12 months) to compare against.
with orders as (
    select order_id, customer_id, order_date, net_revenue_amount, is_new_customer_order,
        not is_new_customer_order and not has_unknown_customer as is_returning_customer_order
    from marts.fct_orders
    where is_counted
),

by_period as (
    select
        grain,
        case grain when 'week' then date_trunc('week', order_date)
                   else date_trunc('month', order_date) end as period_start,
        sum(net_revenue_amount) as net_revenue_amount,
        count(order_id) as order_count,
        count(distinct case when is_new_customer_order then customer_id end)
            as new_customer_count,
        count(distinct case when is_returning_customer_order then customer_id end)
            as returning_customer_count
    from orders
    cross join (values ('week'), ('month')) as grains (grain)
    group by 1, 2
)

select
    current_period.grain,
    cast(current_period.period_start as date) as period_start,
    current_period.net_revenue_amount,
    current_period.order_count,
    current_period.net_revenue_amount / nullif(current_period.order_count, 0)
        as average_order_value_amount,
    current_period.new_customer_count,
    current_period.returning_customer_count,
    year_before.net_revenue_amount as net_revenue_year_before_amount
from by_period as current_period
left join by_period as year_before
    on current_period.grain = year_before.grain
    and year_before.period_start = case current_period.grain
        when 'week' then current_period.period_start - interval 52 week
        else current_period.period_start - interval 12 month end
order by current_period.grain, current_period.period_start;

-- name: top_movers
-- Products whose net revenue changed most between the previous and the current period:
-- the $mover_count biggest gains and the $mover_count biggest falls.
with bounds as (
    select max(order_date) as end_date from marts.fct_orders where is_counted
),

lines as (
    select
        items.product_id,
        items.net_amount,
        case when items.order_date > bounds.end_date - to_days(cast($period_days as integer))
             then 'current' else 'previous' end as period
    from marts.fct_order_items as items
    cross join bounds
    where items.is_counted
        and items.order_date > bounds.end_date - to_days(2 * cast($period_days as integer))
),

per_product as (
    select
        product_id,
        coalesce(sum(case when period = 'current' then net_amount end), 0)
            as net_revenue_amount,
        coalesce(sum(case when period = 'previous' then net_amount end), 0)
            as net_revenue_previous_amount
    from lines
    group by product_id
),

ranked as (
    select
        per_product.*,
        net_revenue_amount - net_revenue_previous_amount as change_amount,
        row_number() over (order by net_revenue_amount - net_revenue_previous_amount desc)
            as gain_rank,
        row_number() over (order by net_revenue_amount - net_revenue_previous_amount asc)
            as fall_rank
    from per_product
)

select
    coalesce(products.product_name, ranked.product_id) as product_name,
    products.category,
    ranked.net_revenue_amount,
    ranked.net_revenue_previous_amount,
    ranked.change_amount
from ranked
left join marts.dim_products as products on ranked.product_id = products.product_id
where (ranked.gain_rank <= $mover_count and ranked.change_amount > 0)
    or (ranked.fall_rank <= $mover_count and ranked.change_amount < 0)
order by ranked.change_amount;
