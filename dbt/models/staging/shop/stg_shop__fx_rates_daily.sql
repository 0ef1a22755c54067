{#- One row per currency and day: the rate in force that day, i.e. the contract's "rate on
    the row's date, else the latest earlier one". Days run from each currency's first rate
    to the later of its last rate and today, so lookups are a plain equality join. -#}
with rates as (
    select * from {{ ref('stg_shop__fx_rates') }}
    where currency <> {{ setting_literal("base_currency") }}
),

validity as (
    select
        currency,
        rate_date as valid_from,
        lead(rate_date) over (partition by currency order by rate_date) as valid_until,
        rate_to_base
    from rates
),

bounds as (
    select
        min(rate_date) as first_day,
        case when max(rate_date) > current_date then max(rate_date) else current_date end
            as last_day
    from rates
),

calendar as (
    {{ date_spine("(select first_day from bounds)", "(select last_day from bounds)") }}
),

final as (
    select
        validity.currency,
        calendar.date_day as rate_date,
        validity.rate_to_base,
        validity.valid_from as published_on,
        calendar.date_day = (select last_day from bounds) as is_latest
    from calendar
    inner join validity
        on calendar.date_day >= validity.valid_from
        and (validity.valid_until is null or calendar.date_day < validity.valid_until)
)

select * from final
