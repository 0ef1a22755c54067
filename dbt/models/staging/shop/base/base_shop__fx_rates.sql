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
        {{ rejection_reason(
            required=contract_required('fx_rates'),
            parsed=contract_parsed('fx_rates'),
            rules=contract_accepted_rules('fx_rates')
                  + [('rate_to_base <= 0', 'non_positive_rate')],
            amounts=contract_amounts('fx_rates'),
            planned=contract_planned('fx_rates')
        ) }} as rejection_reason
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
