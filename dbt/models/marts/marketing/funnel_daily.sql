{#- One row per day, channel and device with sessions or orders: the funnel from session to
    product view, add to cart, checkout and purchase (sessions reaching each step), the
    step conversion rates, and the conversion rate of metrics.md (counted orders / sessions).
    Business question: "where do shoppers drop out, and on which channel and device?" A
    session's channel and device are its first event's; an order's are those recorded on it. -#}
with sessions as (
    select
        session_date as date_day,
        channel_id,
        coalesce(device, 'unknown') as device,
        count(*) as session_count,
        sum(case when has_product_view then 1 else 0 end) as product_view_session_count,
        sum(case when has_add_to_cart then 1 else 0 end) as add_to_cart_session_count,
        sum(case when has_checkout then 1 else 0 end) as checkout_session_count,
        sum(case when has_purchase then 1 else 0 end) as purchase_session_count
    from {{ ref('int_sessions') }}
    group by session_date, channel_id, coalesce(device, 'unknown')
),

orders as (
    select
        order_date as date_day,
        coalesce(channel_id, {{ unknown_key() }}) as channel_id,
        coalesce(device, 'unknown') as device,
        count(*) as order_count,
        sum(net_revenue_amount) as net_revenue_amount
    from {{ ref('fct_orders') }}
    where is_counted
    group by order_date, coalesce(channel_id, {{ unknown_key() }}), coalesce(device, 'unknown')
),

keys as (
    select date_day, channel_id, device from sessions
    union
    select date_day, channel_id, device from orders
),

joined as (
    select
        keys.date_day,
        keys.channel_id,
        keys.device,
        coalesce(sessions.session_count, 0) as session_count,
        coalesce(sessions.product_view_session_count, 0) as product_view_session_count,
        coalesce(sessions.add_to_cart_session_count, 0) as add_to_cart_session_count,
        coalesce(sessions.checkout_session_count, 0) as checkout_session_count,
        coalesce(sessions.purchase_session_count, 0) as purchase_session_count,
        coalesce(orders.order_count, 0) as order_count,
        coalesce(orders.net_revenue_amount, 0) as net_revenue_amount
    from keys
    left join sessions
        on keys.date_day = sessions.date_day and keys.channel_id = sessions.channel_id
        and keys.device = sessions.device
    left join orders
        on keys.date_day = orders.date_day and keys.channel_id = orders.channel_id
        and keys.device = orders.device
),

final as (
    select
        joined.*,
        {{ safe_divide('product_view_session_count', 'session_count') }} as product_view_rate,
        {{ safe_divide('add_to_cart_session_count', 'product_view_session_count') }} as view_to_cart_rate,
        {{ safe_divide('checkout_session_count', 'add_to_cart_session_count') }} as cart_to_checkout_rate,
        {{ safe_divide('purchase_session_count', 'checkout_session_count') }} as checkout_to_purchase_rate,
        {{ safe_divide('purchase_session_count', 'session_count') }} as session_to_purchase_rate,
        {{ safe_divide('order_count', 'session_count') }} as conversion_rate
    from joined
)

{{ select_bi_typed('final', {
    'product_view_session_count': type_count(),
    'add_to_cart_session_count': type_count(),
    'checkout_session_count': type_count(),
    'purchase_session_count': type_count(),
    'net_revenue_amount': type_money(),
}) }}
