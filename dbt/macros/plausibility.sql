{#- Plausibility: values that parse but cannot be true of a shop's export (an order in
    9999 or 1900, a total of 1e14, a quantity of 2^63) are quarantined with a reason instead
    of breaking a join, a test or a DECIMAL downstream. Bounds are dbt vars (dbt_project.yml)
    and mirrored in contract.PLAUSIBILITY for the raw GX suites; DECISIONS.md 21. -#}

{% macro plausible_number_var(name) -%}
    {#- A numeric var as a SQL number literal (never pasted as text). -#}
    {%- set value = var(name) -%}
    {%- if value is string or value is boolean or not (value is number) or value < 0 -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ "=" ~ value ~ " is not a non-negative number") }}
    {%- endif -%}
    {{ value | int if value == (value | int) else value | float }}
{%- endmacro %}

{% macro plausible_earliest_literal() -%}
    {%- set value = var('plausible_earliest_date') | string -%}
    {%- if not modules.re.match("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", value) -%}
        {{ exceptions.raise_compiler_error("var plausible_earliest_date=" ~ value ~ " is not YYYY-MM-DD") }}
    {%- endif -%}
    cast('{{ value }}' as timestamp)
{%- endmacro %}

{% macro implausible_time(column, planned=false) -%}
    {#- Before plausible_earliest_date, or later than the row's load time plus
        plausible_future_days (times that happened) or plausible_planned_days (times that are
        planned: campaign start and end, product launch, fx rate dates). -#}
    ({{ column }} < {{ plausible_earliest_literal() }}
     or {{ column }} > {{ dbt.dateadd('day', plausible_number_var('plausible_planned_days' if planned else 'plausible_future_days'), '_loaded_at') }})
{%- endmacro %}

{% macro implausible_amount(column) -%}
    {#- |amount| at or over plausible_max_amount, in the row's own currency. -#}
    abs({{ column }}) >= {{ plausible_number_var('plausible_max_amount') }}
{%- endmacro %}

{% macro implausible_quantity(column) -%}
    {#- A count of items outside 1..plausible_max_quantity (negative ones have their own rule). -#}
    ({{ column }} < 1 or {{ column }} > {{ plausible_number_var('plausible_max_quantity') }})
{%- endmacro %}
