{#- One row per customer_id: valid rows of the customers export, exact duplicates dropped, latest version kept. -#}
with current_rows as (
    {{ staged_current('base_shop__customers') }}
),

final as (
    select
        customer_id,
        email,
        phone,
        first_name,
        last_name,
        gender,
        birth_year,
        country,
        province,
        city,
        signup_at,
        acquisition_channel_id,
        {#- When the newest row cannot be trusted, consent is the most restrictive of all
            versions (an opt-out with a broken updated_at must not leave the customer opted in). -#}
        case when has_untrusted_latest_version then is_marketing_opt_in_every_version
             else is_marketing_opt_in end as is_marketing_opt_in,
        has_untrusted_latest_version,
        membership_level,
        updated_at
    from current_rows
)

select * from final
