{#- Parsing contract text into types. A value that does not parse becomes null, and the
    staging models turn "present but null after parsing" into a rejection reason. -#}

{% macro text(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{% macro to_amount(column) -%}
    {#- "1,299.00", "1299" and "1299.00" all parse; "12.3.4" and "abc" do not. -#}
    {{ try_cast("replace(" ~ text(column) ~ ", ',', '')", "decimal(18, 4)") }}
{%- endmacro %}

{% macro to_integer(column) -%}
    {#- Whole numbers only: "2" and "2.0" parse, "1.5" does not (a cast would round it). -#}
    {%- set number = to_decimal_number(column, strip_commas=false) -%}
    case when {{ number }} = floor({{ number }}) then {{ try_cast(number, dbt.type_bigint()) }} end
{%- endmacro %}

{% macro to_decimal_number(column, strip_commas=true) -%}
    {#- Any decimal text (a count before its whole-number and range checks). -#}
    {%- set value = "replace(" ~ text(column) ~ ", ',', '')" if strip_commas else text(column) -%}
    {{ try_cast(value, "decimal(38, 6)") }}
{%- endmacro %}

{% macro to_date(column) -%}
    {{ try_cast(text(column), "date") }}
{%- endmacro %}

{% macro to_boolean(column) -%}
    case
        when lower({{ text(column) }}) in ('true', 't', '1', 'yes', 'y') then true
        when lower({{ text(column) }}) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}

{#- ISO 8601 text -> UTC timestamp without zone. Text with an offset or Z is exact; text
    without one is wall time in the shop's zone (var shop_timezone). Engine-specific. -#}
{% macro to_utc_timestamp(column) -%}
    {{ return(adapter.dispatch('to_utc_timestamp')(column)) }}
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(column) -%}
    case
        when regexp_matches({{ text(column) }}, '[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$')
            then timezone('UTC', try_cast({{ text(column) }} as timestamptz))
        else timezone('UTC', timezone({{ setting_literal("shop_timezone") }}, try_cast({{ text(column) }} as timestamp)))
    end
{%- endmacro %}

{% macro default__to_utc_timestamp(column) -%}
    {#- Spark SQL: casts honour an offset (session time zone must be UTC). -#}
    case
        when {{ text(column) }} rlike '[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?\\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$'
            then cast({{ text(column) }} as timestamp)
        else to_utc_timestamp(cast({{ text(column) }} as timestamp), {{ setting_literal("shop_timezone") }})
    end
{%- endmacro %}

{#- Cast that yields null instead of failing. dbt-duckdb's dbt.safe_cast is a plain cast. -#}
{% macro try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast')(expression, data_type)) }}
{%- endmacro %}

{% macro duckdb__try_cast(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro default__try_cast(expression, data_type) -%}
    {{ dbt.safe_cast(expression, data_type) }}
{%- endmacro %}

{% macro to_rate(column) -%}
    {#- Exchange rates need more precision than money (JPY to USD is about 0.0067). -#}
    {{ try_cast(text(column), "decimal(28, 12)") }}
{%- endmacro %}
