{#- One row per order line: the line's money converted with its order's currency and rate.
    Lines of orders that are not in staging (quarantined or absent) keep their local
    amounts and get no base amounts; they are counted as orphans in the audit. Incremental
    (DECISIONS 31): an append-only build recomputes the lines of the changed orders. -#}
{{ config(materialized='incremental', incremental_strategy='replace_keys',
          full_refresh=shop_full_refresh(), unique_key='order_id',
          meta={'append_entities': ['orders', 'order_items']}) }}
{{ build_state_dependencies(['base_shop__orders', 'base_shop__order_items']) }}

with items as (
    select * from {{ ref('stg_shop__order_items') }} as staged_lines
    {%- if is_incremental() %}
    where staged_lines.order_id in ({{ changed_order_ids() }})
    {%- endif %}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

final as (
    select
        items.order_id,
        items.line_number,
        items.product_id,
        orders.customer_id,
        orders.order_date,
        orders.is_counted,
        orders.order_id is not null as has_known_order,
        items.quantity,
        items.unit_price * orders.fx_rate_to_base as unit_price_base_amount,
        items.quantity * items.unit_price * orders.fx_rate_to_base as gross_base_amount,
        items.discount_amount * orders.fx_rate_to_base as discount_base_amount,
        (items.quantity * items.unit_price - items.discount_amount) * orders.fx_rate_to_base
            as net_base_amount
    from items
    left join orders on items.order_id = orders.order_id
)

select * from final
