with source as (
    select *, {{ exact_duplicate_rank('products') }} as exact_duplicate_rank
    from {{ source('shop', 'products') }}
),

latest_rates as (
    select currency, rate_to_base from {{ ref('stg_shop__fx_rates_daily') }} where is_latest
),

typed as (
    select
        {{ text('product_id') }} as product_id,
        {{ text('sku') }} as sku,
        {{ text('product_name') }} as product_name,
        {{ text('category') }} as category,
        {{ text('subcategory') }} as subcategory,
        {{ text('brand') }} as brand,
        {{ to_amount('list_price') }} as list_price,
        {{ text('list_price') }} as list_price_text,
        {{ to_amount('unit_cost') }} as unit_cost,
        {{ text('unit_cost') }} as unit_cost_text,
        upper({{ text('currency') }}) as currency,
        {{ to_utc_timestamp('launched_at') }} as launched_at,
        {{ text('launched_at') }} as launched_at_text,
        coalesce({{ to_boolean('is_active') }}, true) as is_active,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ text('updated_at') }} as updated_at_text,
        exact_duplicate_rank,
        _source_file,
        _source_line,
        _parse_error,
        _loaded_at
    from source
),

with_rates as (
    {#- A catalogue price is a current attribute: it is converted at the latest rate. -#}
    select
        typed.*,
        case when typed.currency = {{ setting_literal("base_currency") }} then 1.0
             else latest_rates.rate_to_base end as fx_rate_to_base
    from typed
    left join latest_rates on typed.currency = latest_rates.currency
),

checked as (
    select
        *,
        {{ contract_rejection_reason('products', rules=[
            ('list_price < 0', 'negative_amount'),
            ('fx_rate_to_base is null', 'currency_without_rate')
        ]) }} as rejection_reason
    from with_rates
),

final as (
    select
        *,
        {{ latest_version_rank(['product_id'], 'updated_at') }} as version_rank,
        {{ untrusted_latest_version(['product_id'], 'updated_at') }} as has_untrusted_latest_version
    from checked
)

select * from final
