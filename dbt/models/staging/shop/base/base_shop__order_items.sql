{#- Incremental (DECISIONS 31): an append-only build re-ranks only the keys the new files hold. -#}
{{ config(materialized='incremental', incremental_strategy='replace_keys',
          full_refresh=shop_full_refresh(), unique_key=['order_id', 'line_number'],
          meta={'append_entities': ['order_items']}) }}
{{ build_state_dependencies() }}

with source as {{ inline_cte() }} (
    {{ ranked_source('order_items', [text('order_id'), to_integer('line_number')]) }}
),

typed as {{ inline_cte() }} (
    select
        {{ text('order_id') }} as order_id,
        {{ to_integer('line_number') }} as line_number,
        {{ text('line_number') }} as line_number_text,
        {{ text('product_id') }} as product_id,
        {#- Decimal until checked: 1.5 is not rounded to 2, 2^63 does not overflow. -#}
        {{ to_decimal_number('quantity') }} as quantity,
        {{ text('quantity') }} as quantity_text,
        {{ to_amount('unit_price') }} as unit_price,
        {{ text('unit_price') }} as unit_price_text,
        coalesce({{ to_amount('discount_amount') }}, 0) as discount_amount,
        {{ text('discount_amount') }} as discount_amount_text,
        exact_duplicate_rank,
        _source_file,
        _source_line,
        _parse_error,
        _loaded_at,
        _key_repeats
    from source
),

checked as {{ inline_cte() }} (
    select
        *,
        {{ contract_rejection_reason('order_items', rules=[
            ('quantity < 0', 'negative_quantity'),
            ('quantity <> floor(quantity)', 'fractional_quantity'),
            (implausible_quantity('quantity'), 'implausible_quantity'),
            ('unit_price < 0', 'negative_amount')
        ]) }} as rejection_reason
    from typed
),

final as (
    {{ ranked_versions('checked', ['order_id', 'line_number']) }}
)

select * from final
