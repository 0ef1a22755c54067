{#- One row per calendar month: active, new and repeat customers, the month's repurchase
    rate, and the churn rate at the month's start. Business question: "are we keeping the
    customers we have?" Repurchase rate (metrics.md): customers with 2+ counted orders in the
    month / customers with 1+. Churn rate: of the active base at the month's first day (the
    cutoff) - customers with a counted order in the churn_horizon_days before it - the share
    with none in the churn_horizon_days after it (metrics.md "churned"); null for months
    whose horizon runs past the data's last order date. -#}
with orders as (
    select customer_id, order_date
    from {{ ref('fct_orders') }}
    where is_counted and not has_unknown_customer
),

last_order_date as (
    select max(order_date) as as_of_date from orders
),

first_orders as (
    select customer_id, min(order_date) as first_order_date
    from orders
    group by customer_id
),

months as (
    select distinct dates.month_start_date as month_start
    from {{ ref('dim_date') }} as dates
    inner join last_order_date on dates.month_start_date <= last_order_date.as_of_date
),

monthly_customers as (
    select
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start,
        customer_id,
        count(*) as order_count
    from orders
    group by cast({{ dbt.date_trunc('month', 'order_date') }} as date), customer_id
),

activity as (
    select
        month_start,
        count(*) as active_customer_count,
        sum(case when order_count >= 2 then 1 else 0 end) as repeat_customer_count,
        sum(order_count) as order_count
    from monthly_customers
    group by month_start
),

acquired as (
    select
        cast({{ dbt.date_trunc('month', 'first_order_date') }} as date) as month_start,
        count(*) as new_customer_count
    from first_orders
    group by cast({{ dbt.date_trunc('month', 'first_order_date') }} as date)
),

active_base as (
    {#- Customers with a counted order in the horizon before each cutoff. -#}
    select distinct months.month_start, orders.customer_id
    from months
    inner join orders
        on orders.order_date < months.month_start
        and orders.order_date >= {{ dbt.dateadd('day', -1 * var('churn_horizon_days'), 'months.month_start') }}
),

customer_base as (
    select month_start, count(*) as base_customer_count
    from active_base
    group by month_start
),

retained as (
    {#- Of those, customers who ordered again within the horizon after the cutoff. -#}
    select active_base.month_start, count(distinct orders.customer_id) as retained_customer_count
    from active_base
    inner join orders
        on orders.customer_id = active_base.customer_id
        and orders.order_date >= active_base.month_start
        and orders.order_date < {{ dbt.dateadd('day', var('churn_horizon_days'), 'active_base.month_start') }}
    group by active_base.month_start
),

joined as (
    select
        months.month_start,
        coalesce(activity.active_customer_count, 0) as active_customer_count,
        coalesce(acquired.new_customer_count, 0) as new_customer_count,
        coalesce(activity.repeat_customer_count, 0) as repeat_customer_count,
        coalesce(activity.order_count, 0) as order_count,
        coalesce(customer_base.base_customer_count, 0) as base_customer_count,
        case
            when {{ dbt.dateadd('day', var('churn_horizon_days'), 'months.month_start') }}
                <= {{ dbt.dateadd('day', 1, 'last_order_date.as_of_date') }}
                then coalesce(customer_base.base_customer_count, 0)
                    - coalesce(retained.retained_customer_count, 0)
        end as churned_customer_count
    from months
    cross join last_order_date
    left join activity on months.month_start = activity.month_start
    left join acquired on months.month_start = acquired.month_start
    left join customer_base on months.month_start = customer_base.month_start
    left join retained on months.month_start = retained.month_start
),

final as (
    select
        joined.*,
        {{ safe_divide('repeat_customer_count', 'active_customer_count') }} as repurchase_rate,
        {{ safe_divide('churned_customer_count', 'base_customer_count') }} as churn_rate
    from joined
)

{{ select_bi_typed('final', {
    'repeat_customer_count': type_count(),
    'order_count': type_count(),
}) }}
