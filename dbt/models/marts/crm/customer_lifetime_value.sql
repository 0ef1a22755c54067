{#- One row per customer with a counted order: historical customer lifetime value (net
    revenue to date, metrics.md) and its value in the first 90 and 365 days, which compare
    fairly across cohorts of different age. Business question: "what is a customer worth,
    and how fast do they pay back what we spent to win them?" Window values are null while
    the window has not yet ended at the data's last order date. -#}
with orders as (
    select customer_id, order_date, net_revenue_amount
    from {{ ref('fct_orders') }}
    where is_counted and not has_unknown_customer
),

customers as (
    select customer_id, acquisition_channel_id, first_order_date, last_order_date,
           order_count, net_revenue_amount, as_of_date
    from {{ ref('customers') }}
    where order_count > 0
),

windows as (
    select
        customers.customer_id,
        sum(case when orders.order_date < {{ dbt.dateadd('day', 90, 'customers.first_order_date') }}
                 then orders.net_revenue_amount else 0 end) as value_90,
        sum(case when orders.order_date < {{ dbt.dateadd('day', 365, 'customers.first_order_date') }}
                 then orders.net_revenue_amount else 0 end) as value_365
    from customers
    inner join orders on customers.customer_id = orders.customer_id
    group by customers.customer_id
),

final as (
    select
        customers.customer_id,
        coalesce(customers.acquisition_channel_id, {{ unknown_key() }}) as acquisition_channel_id,
        customers.first_order_date,
        customers.last_order_date,
        {{ dbt.datediff('customers.first_order_date', 'customers.as_of_date', 'day') }} as tenure_days,
        customers.order_count,
        customers.net_revenue_amount as historical_clv_amount,
        case when {{ dbt.dateadd('day', 90, 'customers.first_order_date') }}
                  <= {{ dbt.dateadd('day', 1, 'customers.as_of_date') }}
             then windows.value_90 end as clv_first_90_days_amount,
        case when {{ dbt.dateadd('day', 365, 'customers.first_order_date') }}
                  <= {{ dbt.dateadd('day', 1, 'customers.as_of_date') }}
             then windows.value_365 end as clv_first_365_days_amount,
        customers.as_of_date
    from customers
    inner join windows on customers.customer_id = windows.customer_id
)

{{ select_bi_typed('final', {
    'historical_clv_amount': type_money(),
    'clv_first_90_days_amount': type_money(),
    'clv_first_365_days_amount': type_money(),
}) }}
