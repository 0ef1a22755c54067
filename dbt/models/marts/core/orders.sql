{#- One row per order (every status), ready for BI: money in base currency, channel and
    campaign names, new vs returning (counted orders only). -#}
with orders as (
    select * from {{ ref('fct_orders') }}
),

channels as (
    select * from {{ ref('dim_channels') }}
),

campaigns as (
    select * from {{ ref('dim_campaigns') }}
),

customers as (
    select customer_id, country from {{ ref('dim_customers') }}
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        customers.country as customer_country,
        orders.order_date,
        cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date) as order_month,
        orders.ordered_at,
        orders.status,
        orders.is_counted,
        orders.channel_id,
        channels.channel_name,
        channels.channel_type,
        orders.campaign_id,
        campaigns.campaign_name,
        orders.device,
        orders.item_count,
        orders.unit_count,
        orders.currency as order_currency,
        orders.subtotal_amount,
        orders.discount_amount,
        orders.subtotal_amount - orders.discount_amount as net_amount,
        orders.shipping_amount,
        orders.tax_amount,
        orders.total_amount,
        orders.gross_revenue_amount,
        orders.net_revenue_amount,
        case
            when not orders.is_counted or orders.has_unknown_customer then null
            when orders.is_new_customer_order then 'new'
            else 'returning'
        end as customer_type,
        orders.is_new_customer_order,
        orders.has_coupon,
        orders.coupon_code,
        orders.is_group_buy,
        orders.group_buy_id,
        orders.has_unknown_customer
    from orders
    left join channels on orders.channel_id = channels.channel_id
    left join campaigns on orders.campaign_id = campaigns.campaign_id
    left join customers on orders.customer_id = customers.customer_id
)

{{ select_bi_typed('final', {
    'unit_count': type_count(),
    'subtotal_amount': type_money(),
    'discount_amount': type_money(),
    'net_amount': type_money(),
    'shipping_amount': type_money(),
    'tax_amount': type_money(),
    'total_amount': type_money(),
    'gross_revenue_amount': type_money(),
    'net_revenue_amount': type_money(),
}) }}
