{#- Incremental (DECISIONS 31): an append-only build re-ranks only the keys the new files hold. -#}
{{ config(materialized='incremental', incremental_strategy='replace_keys',
          full_refresh=shop_full_refresh(), unique_key=['order_id'],
          meta={'append_entities': ['orders']}) }}
{{ build_state_dependencies() }}

with source as {{ inline_cte() }} (
    {{ ranked_source('orders', [text('order_id')]) }}
),

fx_rates as (
    select * from {{ ref('stg_shop__fx_rates_daily') }}
),

typed as {{ inline_cte() }} (
    select
        {{ text('order_id') }} as order_id,
        {{ text('customer_id') }} as customer_id,
        {{ to_utc_timestamp('ordered_at') }} as ordered_at,
        {{ text('ordered_at') }} as ordered_at_text,
        lower({{ text('status') }}) as status,
        upper({{ text('currency') }}) as currency,
        {{ to_amount('subtotal_amount') }} as subtotal_amount,
        {{ text('subtotal_amount') }} as subtotal_amount_text,
        coalesce({{ to_amount('discount_amount') }}, 0) as discount_amount,
        {{ text('discount_amount') }} as discount_amount_text,
        coalesce({{ to_amount('shipping_amount') }}, 0) as shipping_amount,
        {{ text('shipping_amount') }} as shipping_amount_text,
        coalesce({{ to_amount('tax_amount') }}, 0) as tax_amount,
        {{ text('tax_amount') }} as tax_amount_text,
        {{ to_amount('total_amount') }} as total_amount,
        {{ text('total_amount') }} as total_amount_text,
        upper({{ text('coupon_code') }}) as coupon_code,
        {{ text('channel_id') }} as channel_id,
        {{ text('campaign_id') }} as campaign_id,
        lower({{ text('device') }}) as device,
        {{ text('group_buy_id') }} as group_buy_id,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ text('updated_at') }} as updated_at_text,
        exact_duplicate_rank,
        _source_file,
        _source_line,
        _parse_error,
        _loaded_at,
        _key_repeats
    from source
),

with_rates as {{ inline_cte() }} (
    select
        typed.*,
        cast(typed.ordered_at as date) as order_date,
        case when typed.currency = {{ setting_literal("base_currency") }} then 1.0
             else fx_rates.rate_to_base end as fx_rate_to_base
    from typed
    left join fx_rates
        on typed.currency = fx_rates.currency
        and cast(typed.ordered_at as date) = fx_rates.rate_date
),

checked as {{ inline_cte() }} (
    select
        *,
        {{ contract_rejection_reason('orders', rules=[
            ('subtotal_amount < 0 or total_amount < 0', 'negative_amount'),
            ('fx_rate_to_base is null', 'currency_without_rate')
        ]) }} as rejection_reason
    from with_rates
),

final as (
    {{ ranked_versions('checked', ['order_id'], 'updated_at') }}
)

select * from final
