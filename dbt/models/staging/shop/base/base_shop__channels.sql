with source as (
    select *, {{ exact_duplicate_rank('channels') }} as exact_duplicate_rank
    from {{ source('shop', 'channels') }}
),

typed as (
    select
        {{ text('channel_id') }} as channel_id,
        {{ text('channel_name') }} as channel_name,
        lower({{ text('channel_type') }}) as channel_type,
        {{ to_boolean('is_paid') }} as is_paid,
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
        {{ contract_rejection_reason('channels') }} as rejection_reason
    from typed
),

final as (
    select
        *,
        {{ latest_version_rank(['channel_id']) }} as version_rank,
        {{ untrusted_latest_version(['channel_id']) }} as has_untrusted_latest_version
    from checked
)

select * from final
