with source as (
    select *, {{ exact_duplicate_rank('campaign_members') }} as exact_duplicate_rank
    from {{ source('shop', 'campaign_members') }}
),

typed as (
    select
        {{ text('campaign_id') }} as campaign_id,
        {{ text('customer_id') }} as customer_id,
        {{ to_utc_timestamp('assigned_at') }} as assigned_at,
        {{ text('assigned_at') }} as assigned_at_text,
        lower({{ text('test_group') }}) as test_group,
        {{ to_utc_timestamp('delivered_at') }} as delivered_at,
        {{ text('delivered_at') }} as delivered_at_text,
        {{ to_utc_timestamp('opened_at') }} as opened_at,
        {{ text('opened_at') }} as opened_at_text,
        {{ to_utc_timestamp('clicked_at') }} as clicked_at,
        {{ text('clicked_at') }} as clicked_at_text,
        exact_duplicate_rank,
        _source_file,
        _source_line,
        _parse_error,
        _loaded_at
    from source
),

checked as (
    select
        *,
        {{ contract_rejection_reason('campaign_members') }} as rejection_reason
    from typed
),

final as (
    select
        *,
        {{ latest_version_rank(['campaign_id', 'customer_id']) }} as version_rank,
        {{ untrusted_latest_version(['campaign_id', 'customer_id']) }} as has_untrusted_latest_version
    from checked
)

select * from final
