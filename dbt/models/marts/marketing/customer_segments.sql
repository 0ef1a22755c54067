{#- One row per customer with a counted order: RFM quintile scores (5 = best), the named RFM
    segment marketers act on, and the lifecycle stage at the as-of date. Business question:
    "who are my champions, who is slipping away, and who has already gone?"
    Scores: recency ranks fewer days since the last counted order higher; frequency ranks
    more counted orders higher; monetary ranks more net revenue higher; ties broken by
    customer_id so a rebuild gives the same scores. Segment from (R, F) with the standard
    RFM grid; lifecycle from recency against churn_horizon_days (metrics.md "churned"). -#}
with customers as (
    select * from {{ ref('customers') }}
    where order_count > 0
),

orders as (
    select customer_id, order_date, customer_order_number
    from {{ ref('fct_orders') }}
    where is_counted and not has_unknown_customer
),

last_gaps as (
    {#- Days between the last counted order and the one before it (null for one order). -#}
    select
        latest.customer_id,
        {{ dbt.datediff('previous.order_date', 'latest.order_date', 'day') }} as last_gap_days
    from orders as latest
    inner join customers on latest.customer_id = customers.customer_id
    inner join orders as previous
        on latest.customer_id = previous.customer_id
        and previous.customer_order_number = latest.customer_order_number - 1
    where latest.customer_order_number = customers.order_count
),

scored as (
    select
        customers.customer_id,
        customers.days_since_last_order as recency_days,
        customers.order_count as frequency_count,
        customers.net_revenue_amount as monetary_amount,
        customers.first_order_date,
        customers.as_of_date,
        ntile(5) over (order by customers.days_since_last_order desc, customers.customer_id)
            as recency_score,
        ntile(5) over (order by customers.order_count, customers.customer_id)
            as frequency_score,
        ntile(5) over (order by customers.net_revenue_amount, customers.customer_id)
            as monetary_score,
        last_gaps.last_gap_days
    from customers
    left join last_gaps on customers.customer_id = last_gaps.customer_id
),

final as (
    select
        customer_id,
        recency_days,
        frequency_count,
        monetary_amount,
        recency_score,
        frequency_score,
        monetary_score,
        {{ dbt.concat([dbt.safe_cast('recency_score', dbt.type_string()),
                       dbt.safe_cast('frequency_score', dbt.type_string()),
                       dbt.safe_cast('monetary_score', dbt.type_string())]) }} as rfm_code,
        case
            when recency_score = 1 and frequency_score = 1 and monetary_score <= 2 then 'lost'
            when recency_score <= 2 and frequency_score <= 2 then 'hibernating'
            when recency_score <= 2 and frequency_score <= 4 then 'at_risk'
            when recency_score <= 2 then 'cant_lose'
            when recency_score = 3 and frequency_score <= 2 then 'about_to_sleep'
            when recency_score = 3 and frequency_score = 3 then 'need_attention'
            when recency_score = 5 and frequency_score >= 4 then 'champions'
            when frequency_score >= 4 then 'loyal'
            when recency_score = 4 and frequency_score = 1 then 'promising'
            when recency_score = 5 and frequency_score = 1 then 'new'
            else 'potential_loyalists'
        end as rfm_segment,
        case
            when recency_days > {{ var('churn_horizon_days') }} then 'churned'
            when {{ dbt.datediff('first_order_date', 'as_of_date', 'day') }} <= 30 then 'new'
            when last_gap_days > {{ var('churn_horizon_days') }} then 'reactivated'
            when recency_days > {{ var('churn_horizon_days') }} * 2 / 3 then 'at_risk'
            else 'active'
        end as lifecycle_stage,
        last_gap_days,
        as_of_date
    from scored
)

{{ select_bi_typed('final', {
    'monetary_amount': type_money(),
}) }}
