{#- One row per known customer: first and last counted order, counted orders, revenue, AOV,
    recency and acquisition channel (customers.acquisition_channel_id, else the channel of
    the first counted order, per metrics.md). Recency is measured at the warehouse's
    as-of date: the last order date in the data, so a rebuild gives the same answer. -#}
with customers as (
    select * from {{ ref('dim_customers') }} where not is_unknown_member
),

orders as (
    select * from {{ ref('fct_orders') }} where is_counted and not has_unknown_customer
),

channels as (
    select * from {{ ref('dim_channels') }}
),

as_of as (
    select max(order_date) as as_of_date from {{ ref('fct_orders') }}
),

order_totals as (
    select
        customer_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as order_count,
        sum(gross_revenue_amount) as gross_revenue_amount,
        sum(discount_amount) as discount_amount,
        sum(net_revenue_amount) as net_revenue_amount
    from orders
    group by customer_id
),

first_orders as (
    select customer_id, channel_id as first_order_channel_id
    from orders
    where customer_order_number = 1
),

final as (
    select
        customers.customer_id,
        customers.gender,
        customers.age_band,
        customers.country,
        customers.membership_level,
        customers.is_marketing_opt_in,
        customers.signup_date,
        coalesce(customers.acquisition_channel_id, first_orders.first_order_channel_id)
            as acquisition_channel_id,
        channels.channel_name as acquisition_channel_name,
        order_totals.first_order_date,
        order_totals.last_order_date,
        coalesce(order_totals.order_count, 0) as order_count,
        coalesce(order_totals.gross_revenue_amount, 0) as gross_revenue_amount,
        coalesce(order_totals.discount_amount, 0) as discount_amount,
        coalesce(order_totals.net_revenue_amount, 0) as net_revenue_amount,
        {{ safe_divide('order_totals.net_revenue_amount', 'order_totals.order_count') }}
            as average_order_value_amount,
        {{ dbt.datediff('order_totals.last_order_date', 'as_of.as_of_date', 'day') }}
            as days_since_last_order,
        coalesce(order_totals.order_count, 0) >= 2 as is_repeat_customer,
        as_of.as_of_date
    from customers
    cross join as_of
    left join order_totals on customers.customer_id = order_totals.customer_id
    left join first_orders on customers.customer_id = first_orders.customer_id
    left join channels
        on coalesce(customers.acquisition_channel_id, first_orders.first_order_channel_id)
        = channels.channel_id
)

{{ select_bi_typed('final', {
    'gross_revenue_amount': type_money(),
    'discount_amount': type_money(),
    'net_revenue_amount': type_money(),
}) }}
