{#- One row per channel and day with any sessions, orders or spend: traffic, orders,
    revenue, spend and the ratios of metrics.md (CTR, CPC, conversion rate, CAC, ROAS),
    each null when its denominator is zero. Orders are credited to the channel recorded on
    the order; customers acquired to their acquisition channel on their first order date.
    The attributed_* columns share each order's revenue (and each new customer) among the
    channels that touched it, under the five models of fct_order_attribution, on the order
    date; ROAS and CAC per model divide the day's spend by them. -#}
{%- set models = attribution_models() -%}
with sessions as (
    select channel_id, session_date as date_day, count(*) as session_count
    from {{ ref('int_sessions') }}
    group by channel_id, session_date
),

orders as (
    select
        channel_id,
        order_date as date_day,
        count(*) as order_count,
        sum(gross_revenue_amount) as gross_revenue_amount,
        sum(net_revenue_amount) as net_revenue_amount
    from {{ ref('fct_orders') }}
    where is_counted
    group by channel_id, order_date
),

acquisitions as (
    select
        coalesce(acquisition_channel_id, {{ unknown_key() }}) as channel_id,
        first_order_date as date_day,
        count(*) as customers_acquired_count
    from {{ ref('customers') }}
    where first_order_date is not null
    group by coalesce(acquisition_channel_id, {{ unknown_key() }}), first_order_date
),

attributed as (
    select
        channel_id,
        order_date as date_day,
        {%- for model in models %}
        sum({{ model }}_revenue_amount) as attributed_revenue_{{ model }}_amount,
        sum(case when is_new_customer_order then {{ model }}_weight else 0 end)
            as attributed_customers_{{ model }}_count{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('fct_order_attribution') }}
    group by channel_id, order_date
),

spend as (
    select
        channel_id,
        spend_date as date_day,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend_amount) as spend_amount
    from {{ ref('fct_ad_spend') }}
    group by channel_id, spend_date
),

channel_days as (
    select channel_id, date_day from sessions
    union
    select channel_id, date_day from orders
    union
    select channel_id, date_day from acquisitions
    union
    select channel_id, date_day from spend
    union
    select channel_id, date_day from attributed
),

channels as (
    select * from {{ ref('dim_channels') }}
),

joined as (
    select
        channel_days.channel_id,
        channels.channel_name,
        channels.channel_type,
        channels.is_paid,
        channel_days.date_day,
        coalesce(sessions.session_count, 0) as session_count,
        coalesce(orders.order_count, 0) as order_count,
        coalesce(orders.gross_revenue_amount, 0) as gross_revenue_amount,
        coalesce(orders.net_revenue_amount, 0) as net_revenue_amount,
        coalesce(acquisitions.customers_acquired_count, 0) as customers_acquired_count,
        coalesce(spend.impressions, 0) as impressions,
        coalesce(spend.clicks, 0) as clicks,
        coalesce(spend.spend_amount, 0) as spend_amount,
        {%- for model in models %}
        coalesce(attributed.attributed_revenue_{{ model }}_amount, 0)
            as attributed_revenue_{{ model }}_amount,
        coalesce(attributed.attributed_customers_{{ model }}_count, 0)
            as attributed_customers_{{ model }}_count{{ "," if not loop.last }}
        {%- endfor %}
    from channel_days
    left join channels on channel_days.channel_id = channels.channel_id
    left join sessions
        on channel_days.channel_id = sessions.channel_id and channel_days.date_day = sessions.date_day
    left join orders
        on channel_days.channel_id = orders.channel_id and channel_days.date_day = orders.date_day
    left join acquisitions
        on channel_days.channel_id = acquisitions.channel_id
        and channel_days.date_day = acquisitions.date_day
    left join spend
        on channel_days.channel_id = spend.channel_id and channel_days.date_day = spend.date_day
    left join attributed
        on channel_days.channel_id = attributed.channel_id
        and channel_days.date_day = attributed.date_day
),

final as (
    select
        joined.*,
        {{ safe_divide('clicks', 'impressions') }} as click_through_rate,
        {{ safe_divide('spend_amount', 'clicks') }} as cost_per_click_amount,
        {{ safe_divide('order_count', 'session_count') }} as conversion_rate,
        {{ safe_divide('spend_amount', 'customers_acquired_count') }} as customer_acquisition_cost_amount,
        {{ safe_divide('net_revenue_amount', 'spend_amount') }} as return_on_ad_spend,
        {%- for model in models %}
        {{ safe_divide('attributed_revenue_' ~ model ~ '_amount', 'spend_amount') }}
            as return_on_ad_spend_{{ model }},
        {{ safe_divide('spend_amount', 'attributed_customers_' ~ model ~ '_count') }}
            as customer_acquisition_cost_{{ model }}_amount{{ "," if not loop.last }}
        {%- endfor %}
    from joined
)

{{ select_bi_typed('final', {
    'gross_revenue_amount': type_money(),
    'net_revenue_amount': type_money(),
    'impressions': type_count(),
    'clicks': type_count(),
    'spend_amount': type_money(),
    'attributed_revenue_first_touch_amount': type_money(),
    'attributed_customers_first_touch_count': type_ratio(),
    'attributed_revenue_last_touch_amount': type_money(),
    'attributed_customers_last_touch_count': type_ratio(),
    'attributed_revenue_linear_amount': type_attributed_total(),
    'attributed_customers_linear_count': type_ratio(),
    'attributed_revenue_time_decay_amount': type_attributed_total(),
    'attributed_customers_time_decay_count': type_ratio(),
    'attributed_revenue_position_based_amount': type_attributed_total(),
    'attributed_customers_position_based_count': type_ratio(),
}) }}
