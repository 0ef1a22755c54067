{#- One row per product, plus the unknown member (product_id '-1'). Prices in base currency. -#}
with products as (
    select * from {{ ref('stg_shop__products') }}
),

known as (
    select
        product_id,
        sku,
        product_name,
        category,
        subcategory,
        brand,
        list_price_base_amount,
        unit_cost_base_amount,
        launched_at,
        is_active,
        false as is_unknown_member
    from products
),

unknown_member as (
    select
        {{ unknown_key() }} as product_id,
        cast(null as {{ dbt.type_string() }}) as sku,
        'Unknown product' as product_name,
        'Unknown' as category,
        cast(null as {{ dbt.type_string() }}) as subcategory,
        cast(null as {{ dbt.type_string() }}) as brand,
        cast(null as decimal(18, 4)) as list_price_base_amount,
        cast(null as decimal(18, 4)) as unit_cost_base_amount,
        cast(null as {{ dbt.type_timestamp() }}) as launched_at,
        false as is_active,
        true as is_unknown_member
),

final as (
    select * from known
    union all
    select * from unknown_member
)

{{ select_bi_typed('final', {
    'list_price_base_amount': type_unit_price(),
    'unit_cost_base_amount': type_unit_price(),
}) }}
