with source as (
    select *, {{ exact_duplicate_rank('ad_spend') }} as exact_duplicate_rank
    from {{ source('shop', 'ad_spend') }}
),

fx_rates as (
    select * from {{ ref('stg_shop__fx_rates_daily') }}
),

typed as (
    select
        {{ to_date('spend_date') }} as spend_date,
        {{ text('spend_date') }} as spend_date_text,
        {{ text('channel_id') }} as channel_id,
        {{ text('campaign_id') }} as campaign_id,
        {{ to_integer('impressions') }} as impressions,
        {{ text('impressions') }} as impressions_text,
        {{ to_integer('clicks') }} as clicks,
        {{ text('clicks') }} as clicks_text,
        {{ to_amount('spend') }} as spend,
        {{ text('spend') }} as spend_text,
        upper({{ text('currency') }}) as currency,
        exact_duplicate_rank,
        _source_file,
        _source_line,
        _parse_error,
        _loaded_at
    from source
),

with_rates as (
    select
        typed.*,
        case when typed.currency = {{ setting_literal("base_currency") }} then 1.0
             else fx_rates.rate_to_base end as fx_rate_to_base
    from typed
    left join fx_rates
        on typed.currency = fx_rates.currency
        and typed.spend_date = fx_rates.rate_date
),

checked as (
    select
        *,
        {#- spend_date is a date; a malformed one is reported as bad_timestamp like other times. -#}
        {{ contract_rejection_reason('ad_spend', rules=[
            ('spend < 0 or impressions < 0 or clicks < 0', 'negative_amount'),
            ('fx_rate_to_base is null', 'currency_without_rate')
        ]) }} as rejection_reason
    from with_rates
),

final as (
    select
        *,
        {{ latest_version_rank(['spend_date', 'channel_id', 'campaign_id']) }} as version_rank,
        {{ untrusted_latest_version(['spend_date', 'channel_id', 'campaign_id']) }} as has_untrusted_latest_version
    from checked
)

select * from final
