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
        is_marketing_opt_in,
        membership_level,
        updated_at
    from current_rows
)

select * from final
