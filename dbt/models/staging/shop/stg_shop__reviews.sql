{#- One row per review_id: valid rows of the reviews export, exact duplicates dropped, latest version kept. -#}
with current_rows as (
    {{ staged_current('base_shop__reviews') }}
),

final as (
    select
        review_id,
        order_id,
        product_id,
        customer_id,
        rating,
        review_text,
        created_at
    from current_rows
)

select * from final
