{#- One row per product_id: valid rows of the products export, exact duplicates dropped, latest version kept. -#}
with current_rows as (
    {{ staged_current('base_shop__products') }}
),

final as (
    select
        product_id,
        sku,
        product_name,
        category,
        subcategory,
        brand,
        currency,
        list_price,
        unit_cost,
        fx_rate_to_base,
        list_price * fx_rate_to_base as list_price_base_amount,
        unit_cost * fx_rate_to_base as unit_cost_base_amount,
        launched_at,
        is_active,
        updated_at
    from current_rows
)

select * from final
