{#- One row per order_id: valid rows of the orders export, exact duplicates dropped, latest version kept. -#}
{#- A view: its readers filter the base table themselves, so the valid rows are never copied (issue 18). -#}
{{ config(materialized='view') }}

with current_rows as (
    {{ staged_current('base_shop__orders') }}
),

final as (
    select
        order_id,
        customer_id,
        ordered_at,
        order_date,
        status,
        currency,
        fx_rate_to_base,
        subtotal_amount,
        discount_amount,
        shipping_amount,
        tax_amount,
        total_amount,
        subtotal_amount * fx_rate_to_base as subtotal_base_amount,
        discount_amount * fx_rate_to_base as discount_base_amount,
        shipping_amount * fx_rate_to_base as shipping_base_amount,
        tax_amount * fx_rate_to_base as tax_base_amount,
        total_amount * fx_rate_to_base as total_base_amount,
        coupon_code,
        channel_id,
        campaign_id,
        device,
        group_buy_id,
        updated_at
    from current_rows
)

select * from final
