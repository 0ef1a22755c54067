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

channel_ids as (
    {#- A paid channel that won nobody still shows, with its spend. -#}
    select channel_id from by_channel
    union
    select channel_id from spend
),

final as (
    select
        channel_ids.channel_id,
        channels.channel_name,
        channels.channel_type,
        channels.is_paid,
        coalesce(by_channel.customers_acquired_count, 0) as customers_acquired_count,
        coalesce(by_channel.repeat_customer_count, 0) as repeat_customer_count,
        {{ safe_divide('by_channel.repeat_customer_count', 'by_channel.customers_acquired_count') }}
            as repurchase_rate,
        coalesce(by_channel.order_count, 0) as order_count,
        coalesce(by_channel.net_revenue_amount, 0) as net_revenue_amount,
        by_channel.average_historical_clv_amount,
        by_channel.average_clv_first_90_days_amount,
        by_channel.average_clv_first_365_days_amount,
        coalesce(spend.spend_amount, 0) as spend_amount,
        {{ safe_divide('spend.spend_amount', 'by_channel.customers_acquired_count') }}
            as customer_acquisition_cost_amount,
        {{ safe_divide('by_channel.average_historical_clv_amount',
                       safe_divide('spend.spend_amount', 'by_channel.customers_acquired_count')) }}
            as clv_to_cac_ratio
    from channel_ids
    left join by_channel on channel_ids.channel_id = by_channel.channel_id
    left join {{ ref('dim_channels') }} as channels on channel_ids.channel_id = channels.channel_id
    left join spend on channel_ids.channel_id = spend.channel_id
)

{{ select_bi_typed('final', {
    'repeat_customer_count': type_count(),
    'order_count': type_count(),
    'net_revenue_amount': type_money(),
    'spend_amount': type_money(),
}) }}
