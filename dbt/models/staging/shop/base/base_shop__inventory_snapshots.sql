with source as (
    select *, {{ exact_duplicate_rank('inventory_snapshots') }} as exact_duplicate_rank
    from {{ source('shop', 'inventory_snapshots') }}
),

typed as (
    select
        {{ to_date('snapshot_date') }} as snapshot_date,
        {{ text('snapshot_date') }} as snapshot_date_text,
        {{ text('product_id') }} as product_id,
        coalesce({{ text('warehouse_id') }}, 'default') as warehouse_id,
        {{ to_integer('on_hand_qty') }} as on_hand_qty,
        {{ text('on_hand_qty') }} as on_hand_qty_text,
        coalesce({{ to_integer('on_order_qty') }}, 0) as on_order_qty,
        {{ text('on_order_qty') }} as on_order_qty_text,
        {{ to_amount('unit_cost') }} as unit_cost,
        {{ text('unit_cost') }} as unit_cost_text,
        exact_duplicate_rank,
        _source_file,
        _source_line,
        _parse_error,
        _loaded_at
    from source
),

checked as (
    select
        *,
        {{ contract_rejection_reason('inventory_snapshots', rules=[
            ('on_hand_qty < 0 or on_order_qty < 0', 'negative_quantity')
        ]) }} as rejection_reason
    from typed
),

final as (
    select
        *,
        {{ latest_version_rank(['snapshot_date', 'product_id', 'warehouse_id']) }} as version_rank,
        {{ untrusted_latest_version(['snapshot_date', 'product_id', 'warehouse_id']) }} as has_untrusted_latest_version
    from checked
)

select * from final
