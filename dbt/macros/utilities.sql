{% macro unknown_key() -%}'-1'{%- endmacro %}

{% macro safe_divide(numerator, denominator) -%}
    {#- metrics.md: a ratio with a zero denominator is null, never zero or infinity. -#}
    case when {{ denominator }} is null or {{ denominator }} = 0 then null
         else cast({{ numerator }} as double) / {{ denominator }} end
{%- endmacro %}

{% macro counted_status(column) -%}
    {#- metrics.md: a counted order is placed, paid, shipped or delivered. -#}
    {{ column }} in ({% for status in var('counted_statuses') %}'{{ status }}'{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro date_spine(start_date, end_date) -%}
    {#- One row per day from start_date to end_date inclusive (up to 100,000 days). -#}
    with digits as (
        select 0 as digit union all select 1 union all select 2 union all select 3
        union all select 4 union all select 5 union all select 6 union all select 7
        union all select 8 union all select 9
    ),

    offsets as (
        select ones.digit + 10 * tens.digit + 100 * hundreds.digit
               + 1000 * thousands.digit + 10000 * ten_thousands.digit as day_offset
        from digits as ones
        cross join digits as tens
        cross join digits as hundreds
        cross join digits as thousands
        cross join digits as ten_thousands
    )

    select cast({{ dbt.dateadd('day', 'day_offset', start_date) }} as date) as date_day
    from offsets
    where day_offset <= {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}

{% macro rating_distribution(rating) -%}
    {#- Count of reviews per star, rating_1_count .. rating_5_count (to put in a select). -#}
    {%- for star in range(1, 6) %}
        sum(case when {{ rating }} = {{ star }} then 1 else 0 end) as rating_{{ star }}_count{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro attribution_models() -%}
    {#- The five models whose weights and revenue fct_order_attribution computes. -#}
    {{ return(['first_touch', 'last_touch', 'linear', 'time_decay', 'position_based']) }}
{%- endmacro %}

{#- Position-based attribution's weight of touches 1..k of an order with n touches: 40% to the
    first and the last, 20% shared by the middle; 50/50 for two touches, all of it for one.
    k and n are SQL expressions; k = 0 gives 0 and k = n exactly 1. -#}
{% macro position_based_through(k, n) -%}
case
    when {{ k }} <= 0 then 0.0
    when {{ k }} >= {{ n }} then 1.0
    when {{ n }} = 2 then 0.5
    else 0.4 + 0.2 * ({{ k }} - 1) / ({{ n }} - 2)
end
{%- endmacro %}

{#- A dbt var that is a setting (base_currency, shop_timezone), as a quoted SQL literal.
    The value is checked against its rule first, so nothing but a currency code or a time
    zone name can reach the SQL, even when dbt is run by hand with odd --vars. -#}
{% macro setting_literal(name) -%}
    {%- set rules = {"base_currency": "^[A-Z]{3}$", "shop_timezone": "^[A-Za-z0-9_+/-]+$"} -%}
    {%- set value = var(name) | string -%}
    {%- if not modules.re.match(rules[name], value) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ "=" ~ value ~ " does not match " ~ rules[name]) }}
    {%- endif -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}
