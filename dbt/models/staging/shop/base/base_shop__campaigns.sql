with source as (
    select *, {{ exact_duplicate_rank('campaigns') }} as exact_duplicate_rank
    from {{ source('shop', 'campaigns') }}
),

fx_rates as (
    select * from {{ ref('stg_shop__fx_rates_daily') }}
),

typed as (
    select
        {{ text('campaign_id') }} as campaign_id,
        {{ text('campaign_name') }} as campaign_name,
        {{ text('channel_id') }} as channel_id,
        lower({{ text('campaign_type') }}) as campaign_type,
        {{ to_utc_timestamp('starts_at') }} as starts_at,
        {{ text('starts_at') }} as starts_at_text,
        {{ to_utc_timestamp('ends_at') }} as ends_at,
        {{ text('ends_at') }} as ends_at_text,
        {{ to_amount('budget') }} as budget,
        {{ text('budget') }} as budget_text,
        coalesce(upper({{ text('currency') }}), {{ setting_literal("base_currency") }}) as currency,
        {{ text('target_segment') }} as target_segment,
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
        and cast(typed.starts_at as date) = fx_rates.rate_date
),

checked as (
    select
        *,
        {{ contract_rejection_reason('campaigns', rules=[
            ('ends_at < starts_at', 'ends_before_start'),
            ('budget is not null and fx_rate_to_base is null', 'currency_without_rate')
        ]) }} as rejection_reason
    from with_rates
),

final as (
    select
        *,
        {{ latest_version_rank(['campaign_id']) }} as version_rank,
        {{ untrusted_latest_version(['campaign_id']) }} as has_untrusted_latest_version
    from checked
)

select * from final
