with source as (
    select *, {{ exact_duplicate_rank('fx_rates') }} as exact_duplicate_rank
    from {{ source('shop', 'fx_rates') }}
),

typed as (
    select
        {{ to_date('rate_date') }} as rate_date,
        {{ text('rate_date') }} as rate_date_text,
        upper({{ text('currency') }}) as currency,
        {{ to_rate('rate_to_base') }} as rate_to_base,
        {{ text('rate_to_base') }} as rate_to_base_text,
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
        {{ contract_rejection_reason('fx_rates', rules=[
            ('rate_to_base <= 0', 'non_positive_rate')
        ]) }} as rejection_reason
    from typed
),

final as (
    select
        *,
        {{ latest_version_rank(['rate_date', 'currency']) }} as version_rank,
        {{ untrusted_latest_version(['rate_date', 'currency']) }} as has_untrusted_latest_version
    from checked
)

select * from final
