{#- One row per order line, money in base currency. Lines whose order or product is unknown
    join to the unknown member '-1'. Incremental (DECISIONS 31): an append-only build
    recomputes the lines of the changed orders. -#}
{{ config(materialized='incremental', incremental_strategy='replace_keys',
          full_refresh=shop_full_refresh(), unique_key='order_id',
          meta={'append_entities': ['orders', 'order_items']}) }}
{{ build_state_dependencies(['base_shop__orders', 'base_shop__order_items']) }}

with items as (
    select * from {{ ref('int_order_items_priced') }} as priced_lines
    {%- if is_incremental() %}
    where priced_lines.order_id in ({{ changed_order_ids() }})
    {%- endif %}
),

products as (
    select product_id from {{ ref('stg_shop__products') }}
),

orders as (
    select order_id, customer_id from {{ ref('fct_orders') }}
),

final as (
    select
        items.order_id,
        items.line_number,
        coalesce(products.product_id, {{ unknown_key() }}) as product_id,
        items.product_id as exported_product_id,
        coalesce(orders.customer_id, {{ unknown_key() }}) as customer_id,
        items.order_date,
        coalesce(items.is_counted, false) as is_counted,
        items.quantity,
        items.unit_price_base_amount as unit_price_amount,
        items.gross_base_amount as gross_amount,
        items.discount_base_amount as discount_amount,
        items.net_base_amount as net_amount,
        orders.order_id is null as has_unknown_order,
        products.product_id is null as has_unknown_product
    from items
    left join orders on items.order_id = orders.order_id
    left join products on items.product_id = products.product_id
)

{{ select_bi_typed('final', {
    'unit_price_amount': type_unit_price(),
    'gross_amount': type_money(),
    'discount_amount': type_money(),
    'net_amount': type_money(),
}) }}
