{#- One row per acquisition channel: customers won, how many came back, their historical
    CLV and first-year value, paid spend and CAC (metrics.md, over the whole history), and
    CLV / CAC. Business question: "which channels bring customers worth what they cost?" -#}
with customers as (
    select * from {{ ref('customer_lifetime_value') }}
),

spend as (
    select channel_id, sum(spend_amount) as spend_amount
    from {{ ref('fct_ad_spend') }}
    group by channel_id
),

by_channel as (
    select
        acquisition_channel_id as channel_id,
        count(*) as customers_acquired_count,
        sum(case when order_count >= 2 then 1 else 0 end) as repeat_customer_count,
        sum(order_count) as order_count,
        sum(historical_clv_amount) as net_revenue_amount,
        avg(historical_clv_amount) as average_historical_clv_amount,
        avg(clv_first_90_days_amount) as average_clv_first_90_days_amount,
        avg(clv_first_365_days_amount) as average_clv_first_365_days_amount
    from customers
    group by acquisition_channel_id
),

final as (
    select
        by_channel.channel_id,
        channels.channel_name,
        channels.channel_type,
        channels.is_paid,
        by_channel.customers_acquired_count,
        by_channel.repeat_customer_count,
        {{ safe_divide('by_channel.repeat_customer_count', 'by_channel.customers_acquired_count') }}
            as repurchase_rate,
        by_channel.order_count,
        by_channel.net_revenue_amount,
        by_channel.average_historical_clv_amount,
        by_channel.average_clv_first_90_days_amount,
        by_channel.average_clv_first_365_days_amount,
        coalesce(spend.spend_amount, 0) as spend_amount,
        {{ safe_divide('spend.spend_amount', 'by_channel.customers_acquired_count') }}
            as customer_acquisition_cost_amount,
        {{ safe_divide('by_channel.average_historical_clv_amount',
                       safe_divide('spend.spend_amount', 'by_channel.customers_acquired_count')) }}
            as clv_to_cac_ratio
    from by_channel
    left join {{ ref('dim_channels') }} as channels on by_channel.channel_id = channels.channel_id
    left join spend on by_channel.channel_id = spend.channel_id
)

select * from final
