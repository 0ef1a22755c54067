{#- An erased and the unknown member carry no attribute: the same columns, empty. -#}
{%- set no_attributes -%}
cast(null as {{ dbt.type_string() }}) as email_pseudonym,
        'unknown' as gender,
        'unknown' as age_band,
        cast(null as {{ dbt.type_string() }}) as country,
        cast(null as {{ dbt.type_string() }}) as province,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_timestamp() }}) as signup_at,
        cast(null as date) as signup_date,
        cast(null as {{ dbt.type_string() }}) as acquisition_channel_id,
        false as is_marketing_opt_in,
        'none' as membership_level
{%- endset %}

{#- One row per customer, one per erased customer (an anonymous member: no attributes,
    their orders keep counting) and the unknown member (customer_id '-1') that facts with
    an unknown customer join to. Personal data is pseudonymised: no names, e-mail or
    phone, only a keyed pseudonym of the e-mail address (computed at load, in Python: the
    key never reaches dbt) and an age band. -#}
with customers as (
    select * from {{ ref('stg_shop__customers') }}
),

email_pseudonyms as (
    select * from {{ source('privacy', 'email_pseudonyms') }}
),

erased as (
    select * from {{ source('privacy', 'suppression') }}
),

channels as (
    select channel_id from {{ ref('stg_shop__channels') }}
),

known as (
    select
        customers.customer_id,
        email_pseudonyms.email_pseudonym,
        customers.gender,
        case
            when customers.birth_year is null then 'unknown'
            when {{ date_part('year', 'customers.signup_at') }} - customers.birth_year < 25 then '18-24'
            when {{ date_part('year', 'customers.signup_at') }} - customers.birth_year < 35 then '25-34'
            when {{ date_part('year', 'customers.signup_at') }} - customers.birth_year < 45 then '35-44'
            when {{ date_part('year', 'customers.signup_at') }} - customers.birth_year < 55 then '45-54'
            else '55+'
        end as age_band,
        customers.country,
        customers.province,
        customers.city,
        customers.signup_at,
        cast(customers.signup_at as date) as signup_date,
        case
            when customers.acquisition_channel_id is null then null
            when channels.channel_id is null then {{ unknown_key() }}
            else customers.acquisition_channel_id
        end as acquisition_channel_id,
        customers.is_marketing_opt_in,
        coalesce(customers.membership_level, 'none') as membership_level,
        false as is_unknown_member,
        false as is_erased_member
    from customers
    left join channels on customers.acquisition_channel_id = channels.channel_id
    left join email_pseudonyms on customers.email = email_pseudonyms.email
),

erased_members as (
    select
        erased.anonymous_customer_id as customer_id,
        {{ no_attributes }},
        false as is_unknown_member,
        true as is_erased_member
    from erased
),

unknown_member as (
    select
        {{ unknown_key() }} as customer_id,
        {{ no_attributes }},
        true as is_unknown_member,
        false as is_erased_member
),

final as (
    select * from known
    union all
    select * from erased_members
    union all
    select * from unknown_member
)

select * from final
