with source as (
    select *, {{ exact_duplicate_rank('customers') }} as exact_duplicate_rank
    from {{ source('shop', 'customers') }}
),

typed as (
    select
        {{ text('customer_id') }} as customer_id,
        {{ text('email') }} as email,
        {{ text('phone') }} as phone,
        {{ text('first_name') }} as first_name,
        {{ text('last_name') }} as last_name,
        lower({{ text('gender') }}) as gender,
        {{ to_integer('birth_year') }} as birth_year,
        {{ text('birth_year') }} as birth_year_text,
        upper({{ text('country') }}) as country,
        {{ text('province') }} as province,
        {{ text('city') }} as city,
        {{ to_utc_timestamp('signup_at') }} as signup_at,
        {{ text('signup_at') }} as signup_at_text,
        {{ text('acquisition_channel_id') }} as acquisition_channel_id,
        coalesce({{ to_boolean('marketing_opt_in') }}, false) as is_marketing_opt_in,
        lower({{ text('membership_level') }}) as membership_level,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ text('updated_at') }} as updated_at_text,
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
        {{ contract_rejection_reason('customers') }} as rejection_reason
    from typed
),

final as (
    select
        *,
        {{ latest_version_rank(['customer_id'], 'updated_at') }} as version_rank,
        {{ untrusted_latest_version(['customer_id'], 'updated_at') }} as has_untrusted_latest_version,
        {#- Consent of every version, quarantined ones included (an unreadable value is no). -#}
        bool_and(is_marketing_opt_in) over (partition by customer_id) as is_marketing_opt_in_every_version
    from checked
)

select * from final
