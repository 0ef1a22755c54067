{#- One row per customer and tag: words a marketer uses for a group, each with the rule that
    gave it (reason). Rules (counted orders only, as of the data's last order date):
    coupon_lover    2+ orders and at least half of them used a coupon
    high_value      net revenue in the top 10% of customers with orders
    festival_shopper 2+ orders on shopping-festival days (dim_date.is_festival)
    group_buy_leader started at least one group buy (first order of its group)
    reviewer        wrote 3+ reviews
    dormant         has ordered, but not in the last 180 days -#}
with customers as (
    select * from {{ ref('customers') }} where order_count > 0
),

orders as (
    select * from {{ ref('fct_orders') }} where is_counted and not has_unknown_customer
),

dates as (
    select date_day, is_festival from {{ ref('dim_date') }}
),

order_habits as (
    select
        orders.customer_id,
        count(*) as order_count,
        sum(case when orders.has_coupon then 1 else 0 end) as coupon_order_count,
        sum(case when dates.is_festival then 1 else 0 end) as festival_order_count
    from orders
    left join dates on orders.order_date = dates.date_day
    group by orders.customer_id
),

group_starts as (
    select group_buy_id, min(ordered_at) as started_at
    from orders
    where group_buy_id is not null
    group by group_buy_id
),

leaders as (
    select orders.customer_id, count(*) as groups_started
    from orders
    inner join group_starts
        on orders.group_buy_id = group_starts.group_buy_id
        and orders.ordered_at = group_starts.started_at
    group by orders.customer_id
),

reviews as (
    select customer_id, count(*) as review_count
    from {{ ref('fct_reviews') }}
    where customer_id <> {{ unknown_key() }}
    group by customer_id
),

value_ranks as (
    select customer_id, net_revenue_amount,
           ntile(10) over (order by net_revenue_amount, customer_id) as value_decile
    from customers
),

tags as (
    select customer_id, 'coupon_lover' as tag,
           {{ dbt.concat([dbt.safe_cast('coupon_order_count', dbt.type_string()), "' of '",
                          dbt.safe_cast('order_count', dbt.type_string()),
                          "' orders used a coupon'"]) }} as reason
    from order_habits
    where order_count >= 2 and coupon_order_count * 2 >= order_count
    union all
    select customer_id, 'high_value',
           'net revenue in the top 10% of customers'
    from value_ranks
    where value_decile = 10
    union all
    select customer_id, 'festival_shopper',
           {{ dbt.concat([dbt.safe_cast('festival_order_count', dbt.type_string()),
                          "' orders on festival days'"]) }}
    from order_habits
    where festival_order_count >= 2
    union all
    select customer_id, 'group_buy_leader',
           {{ dbt.concat(["'started '", dbt.safe_cast('groups_started', dbt.type_string()),
                          "' group buy(s)'"]) }}
    from leaders
    union all
    select customer_id, 'reviewer',
           {{ dbt.concat([dbt.safe_cast('review_count', dbt.type_string()), "' reviews'"]) }}
    from reviews
    where review_count >= 3
    union all
    select customer_id, 'dormant',
           {{ dbt.concat(["'no order for '", dbt.safe_cast('days_since_last_order', dbt.type_string()),
                          "' days'"]) }}
    from customers
    where days_since_last_order > 180
)

select * from tags
