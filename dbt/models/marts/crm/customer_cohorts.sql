{#- One row per monthly acquisition cohort and month since acquisition. Business question:
    "of the customers we won in a month, how many still buy N months later, and how much has
    each of them spent so far?" A customer is acquired in the month of their first counted
    order (metrics.md); month 0 is that month. Rows run up to the data's last order month,
    which may be partial. -#}
with orders as (
    select customer_id, order_date, net_revenue_amount
    from {{ ref('fct_orders') }}
    where is_counted and not has_unknown_customer
),

first_orders as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'min(order_date)') }} as date) as cohort_month
    from orders
    group by customer_id
),

cohort_sizes as (
    select cohort_month, count(*) as cohort_size
    from first_orders
    group by cohort_month
),

activity as (
    select
        first_orders.cohort_month,
        cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date) as activity_month,
        count(distinct orders.customer_id) as active_customer_count,
        count(*) as order_count,
        sum(orders.net_revenue_amount) as net_revenue_amount
    from orders
    inner join first_orders on orders.customer_id = first_orders.customer_id
    group by
        first_orders.cohort_month,
        cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date)
),

last_month as (
    select max(activity_month) as activity_month from activity
),

months as (
    select distinct dates.month_start_date as activity_month
    from {{ ref('dim_date') }} as dates
    inner join last_month on dates.month_start_date <= last_month.activity_month
),

grid as (
    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_size,
        months.activity_month,
        {{ dbt.datediff('cohort_sizes.cohort_month', 'months.activity_month', 'month') }}
            as months_since_acquisition
    from cohort_sizes
    inner join months on months.activity_month >= cohort_sizes.cohort_month
),

joined as (
    select
        grid.cohort_month,
        grid.activity_month,
        grid.months_since_acquisition,
        grid.cohort_size,
        coalesce(activity.active_customer_count, 0) as active_customer_count,
        coalesce(activity.order_count, 0) as order_count,
        coalesce(activity.net_revenue_amount, 0) as net_revenue_amount
    from grid
    left join activity
        on grid.cohort_month = activity.cohort_month
        and grid.activity_month = activity.activity_month
),

final as (
    select
        joined.*,
        {{ safe_divide('active_customer_count', 'cohort_size') }} as retention_rate,
        sum(net_revenue_amount) over (
            partition by cohort_month order by activity_month
            rows between unbounded preceding and current row
        ) as cumulative_net_revenue_amount,
        {{ safe_divide('sum(net_revenue_amount) over (partition by cohort_month order by activity_month rows between unbounded preceding and current row)', 'cohort_size') }}
            as cumulative_net_revenue_per_customer_amount
    from joined
)

{{ select_bi_typed('final', {
    'net_revenue_amount': type_money(),
    'cumulative_net_revenue_amount': type_money(),
}) }}
