{#- One row per order: staged orders in base currency with their items summed, whether they
    count (metrics.md "counted order"), and the customer's order sequence among counted
    orders (1 = new, 2+ = returning). Incremental (DECISIONS 31): an append-only build
    recomputes the orders of the customers whose orders or lines changed. -#}
{{ config(materialized='incremental', incremental_strategy='replace_keys',
          full_refresh=shop_full_refresh(), unique_key='customer_id',
          meta={'append_entities': ['orders', 'order_items']}) }}
{{ build_state_dependencies(['base_shop__orders', 'base_shop__order_items']) }}

with orders as (
    select * from {{ ref('stg_shop__orders') }} as staged_orders
    {%- if is_incremental() %}
    where staged_orders.customer_id in ({{ changed_order_customers() }})
    {%- endif %}
),

items as (
    select * from {{ ref('stg_shop__order_items') }} as staged_lines
    {%- if is_incremental() %}
    where staged_lines.order_id in (select orders.order_id from orders)
    {%- endif %}
),

item_totals as (
    select
        order_id,
        count(*) as item_count,
        sum(quantity) as unit_count
    from items
    group by order_id
),

flagged as (
    select
        orders.*,
        {{ counted_status('orders.status') }} as is_counted,
        coalesce(item_totals.item_count, 0) as item_count,
        coalesce(item_totals.unit_count, 0) as unit_count
    from orders
    left join item_totals on orders.order_id = item_totals.order_id
),

sequenced as (
    select
        flagged.*,
        case when is_counted then row_number() over (
            partition by customer_id, is_counted order by ordered_at, order_id
        ) end as customer_order_number
    from flagged
),

final as (
    select
        order_id,
        customer_id,
        ordered_at,
        order_date,
        status,
        is_counted,
        currency,
        fx_rate_to_base,
        subtotal_base_amount,
        discount_base_amount,
        subtotal_base_amount - discount_base_amount as net_base_amount,
        shipping_base_amount,
        tax_base_amount,
        total_base_amount,
        item_count,
        unit_count,
        coupon_code,
        channel_id,
        campaign_id,
        device,
        group_buy_id,
        customer_order_number,
        customer_order_number = 1 as is_new_customer_order
    from sequenced
)

select * from final
