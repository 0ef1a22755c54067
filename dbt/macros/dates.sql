{#- ISO day of week, 1 = Monday .. 7 = Sunday. Engine-specific. -#}
{% macro iso_day_of_week(date_expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week')(date_expression)) }}
{%- endmacro %}

{% macro duckdb__iso_day_of_week(date_expression) -%}
    isodow({{ date_expression }})
{%- endmacro %}

{% macro default__iso_day_of_week(date_expression) -%}
    {#- Spark: dayofweek() is 1 = Sunday .. 7 = Saturday. -#}
    ((dayofweek({{ date_expression }}) + 5) % 7) + 1
{%- endmacro %}

{#- Portable date part (year, quarter, month, day): EXTRACT works on DuckDB and Spark. -#}
{% macro date_part(part, date_expression) -%}
    extract({{ part }} from {{ date_expression }})
{%- endmacro %}
