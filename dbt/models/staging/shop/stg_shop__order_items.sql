{#- One row per order_id, line_number: valid rows of the order_items export, exact duplicates dropped, latest version kept. -#}
{#- A view: its readers filter the base table themselves, so the valid rows are never copied (issue 18). -#}
{{ config(materialized='view') }}

with current_rows as (
    {{ staged_current('base_shop__order_items') }}
),

final as (
    select
        order_id,
        line_number,
        product_id,
        cast(quantity as {{ dbt.type_bigint() }}) as quantity,
        unit_price,
        discount_amount
    from current_rows
)

select * from final
