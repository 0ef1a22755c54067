{#- One row per snapshot_date, product_id, warehouse_id: valid rows of the inventory_snapshots export, exact duplicates dropped, latest version kept. -#}
with current_rows as (
    {{ staged_current('base_shop__inventory_snapshots') }}
),

final as (
    select
        snapshot_date,
        product_id,
        warehouse_id,
        on_hand_qty,
        on_order_qty,
        unit_cost
    from current_rows
)

select * from final
