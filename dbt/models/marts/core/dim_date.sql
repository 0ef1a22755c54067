{#- One row per calendar day covering every order, event, spend and snapshot date, with the
    shopping festivals marketers plan around (11.11, 6.18, Black Friday, Cyber Monday). -#}
with activity_dates as (
    select order_date as activity_date from {{ ref('stg_shop__orders') }}
    union all
    select cast(occurred_at as date) from {{ ref('stg_shop__events') }}
    union all
    select spend_date from {{ ref('stg_shop__ad_spend') }}
    union all
    select snapshot_date from {{ ref('stg_shop__inventory_snapshots') }}
),

bounds as (
    select
        coalesce(min(activity_date), current_date) as first_day,
        coalesce(max(activity_date), current_date) as last_day
    from activity_dates
),

calendar as (
    {{ date_spine("(select first_day from bounds)", "(select last_day from bounds)") }}
),

parts as (
    select
        date_day,
        {{ date_part('year', 'date_day') }} as calendar_year,
        {{ date_part('quarter', 'date_day') }} as calendar_quarter,
        {{ date_part('month', 'date_day') }} as calendar_month,
        {{ date_part('day', 'date_day') }} as day_of_month,
        {{ iso_day_of_week('date_day') }} as iso_day_of_week,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        {{ dbt.dateadd('day', -3, 'date_day') }} as three_days_before
    from calendar
),

festivals as (
    select
        parts.*,
        case
            when calendar_month = 11 and day_of_month = 11 then 'double_11'
            when calendar_month = 6 and day_of_month = 18 then '618'
            when calendar_month = 11 and iso_day_of_week = 5 and day_of_month between 22 and 28
                then 'black_friday'
            when iso_day_of_week = 1
                and {{ date_part('month', 'three_days_before') }} = 11
                and {{ date_part('day', 'three_days_before') }} between 22 and 28
                then 'cyber_monday'
        end as festival_name
    from parts
),

final as (
    select
        date_day,
        calendar_year,
        calendar_quarter,
        calendar_month,
        day_of_month,
        iso_day_of_week,
        iso_day_of_week in (6, 7) as is_weekend,
        month_start_date,
        week_start_date,
        festival_name,
        festival_name is not null as is_festival
    from festivals
)

select * from final
