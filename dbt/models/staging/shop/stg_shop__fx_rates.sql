{#- One row per rate_date, currency: valid rows of the fx_rates export, exact duplicates dropped, latest version kept. -#}
with current_rows as (
    {{ staged_current('base_shop__fx_rates') }}
),

final as (
    select
        rate_date,
        currency,
        rate_to_base
    from current_rows
)

select * from final
