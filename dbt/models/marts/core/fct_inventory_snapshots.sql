{#- One row per product, warehouse and snapshot date. The contract gives inventory unit_cost
    no currency: it is read as base currency (see dbt/DECISIONS.md). The grain uses the
    exported product id: several unknown products all join to '-1'. -#}
with snapshots as (
    select * from {{ ref('stg_shop__inventory_snapshots') }}
),

products as (
    select product_id, unit_cost_base_amount from {{ ref('stg_shop__products') }}
),

final as (
    select
        snapshots.snapshot_date,
        coalesce(products.product_id, {{ unknown_key() }}) as product_id,
        snapshots.product_id as exported_product_id,
        snapshots.warehouse_id,
        snapshots.on_hand_qty,
        snapshots.on_order_qty,
        coalesce(snapshots.unit_cost, products.unit_cost_base_amount) as unit_cost_amount,
        snapshots.on_hand_qty * coalesce(snapshots.unit_cost, products.unit_cost_base_amount)
            as stock_value_amount,
        snapshots.on_hand_qty = 0 as is_stocked_out
    from snapshots
    left join products on snapshots.product_id = products.product_id
)

{{ select_bi_typed('final', {
    'unit_cost_amount': type_unit_price(),
    'stock_value_amount': type_money(),
}) }}
