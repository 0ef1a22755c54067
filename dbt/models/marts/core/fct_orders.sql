{#- One row per order (every status). Money in base currency. Keys that point at unknown
    customers or channels join to the unknown member '-1'; revenue columns are 0 for orders
    that do not count (cancelled, returned), per metrics.md. Incremental (DECISIONS 31): an
    append-only build recomputes the orders of the customers whose orders or lines changed. -#}
{{ config(materialized='incremental', incremental_strategy='replace_keys',
          full_refresh=shop_full_refresh(), unique_key='exported_customer_id',
          meta={'append_entities': ['orders', 'order_items']}) }}
{{ build_state_dependencies(['base_shop__orders', 'base_shop__order_items']) }}

with orders as (
    select * from {{ ref('int_orders_enriched') }} as enriched_orders
    {%- if is_incremental() %}
    where enriched_orders.customer_id in ({{ changed_order_customers() }})
    {%- endif %}
),

customers as (
    {#- dim_customers: the shop's customers and the erased ones' anonymous members. -#}
    select customer_id from {{ ref('dim_customers') }} where not is_unknown_member
),

channels as (
    select channel_id from {{ ref('stg_shop__channels') }}
),

campaigns as (
    select campaign_id from {{ ref('stg_shop__campaigns') }}
),

final as (
    select
        orders.order_id,
        coalesce(customers.customer_id, {{ unknown_key() }}) as customer_id,
        orders.customer_id as exported_customer_id,
        coalesce(channels.channel_id, {{ unknown_key() }}) as channel_id,
        case
            when orders.campaign_id is null then null
            else coalesce(campaigns.campaign_id, {{ unknown_key() }})
        end as campaign_id,
        orders.order_date,
        orders.ordered_at,
        orders.status,
        orders.is_counted,
        orders.currency,
        orders.fx_rate_to_base,
        orders.subtotal_base_amount as subtotal_amount,
        orders.discount_base_amount as discount_amount,
        orders.shipping_base_amount as shipping_amount,
        orders.tax_base_amount as tax_amount,
        orders.total_base_amount as total_amount,
        case when orders.is_counted then orders.subtotal_base_amount else 0 end
            as gross_revenue_amount,
        case when orders.is_counted then orders.net_base_amount else 0 end as net_revenue_amount,
        orders.item_count,
        orders.unit_count,
        orders.coupon_code,
        orders.coupon_code is not null as has_coupon,
        orders.device,
        orders.group_buy_id,
        orders.group_buy_id is not null as is_group_buy,
        case when customers.customer_id is null then null else orders.customer_order_number end
            as customer_order_number,
        coalesce(customers.customer_id is not null and orders.is_new_customer_order, false)
            as is_new_customer_order,
        customers.customer_id is null as has_unknown_customer
    from orders
    left join customers on orders.customer_id = customers.customer_id
    left join channels on orders.channel_id = channels.channel_id
    left join campaigns on orders.campaign_id = campaigns.campaign_id
)

{{ select_bi_typed('final', {
    'fx_rate_to_base': type_ratio(),
    'subtotal_amount': type_money(),
    'discount_amount': type_money(),
    'shipping_amount': type_money(),
    'tax_amount': type_money(),
    'total_amount': type_money(),
    'gross_revenue_amount': type_money(),
    'net_revenue_amount': type_money(),
    'unit_count': type_count(),
}) }}
