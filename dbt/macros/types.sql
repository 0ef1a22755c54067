{#- The output types BI tools read well (DECISIONS.md, "BI-friendly types"): counts BIGINT,
    money DECIMAL(18,2), unit prices and costs DECIMAL(18,4), rates, shares and scores
    DOUBLE. In DuckDB a sum of integers is HUGEINT and a sum or product of decimals is
    DECIMAL(38, s), which BI drivers refuse or show with 16 decimals, so every mart casts
    such outputs in its last select. -#}

{% macro type_money() -%}decimal(18, 2){%- endmacro %}

{#- A share of an order's revenue (linear, time-decay, position-based attribution): exact to
    6 places with 12 integer digits (orders up to the plausibility bound of 1e12), so shares
    add up to the order's revenue within a millionth and two builds agree to the byte. -#}
{% macro type_attributed_money() -%}decimal(18, 6){%- endmacro %}

{#- Sums of such shares over a channel, day or campaign: the exact DECIMAL sum, then DOUBLE
    (no width limit for JPY or KRW shops; deterministic, since the sum is exact first). -#}
{% macro type_attributed_total() -%}double{%- endmacro %}

{% macro type_unit_price() -%}decimal(18, 4){%- endmacro %}

{% macro type_count() -%}{{ dbt.type_bigint() }}{%- endmacro %}

{% macro type_ratio() -%}double{%- endmacro %}

{% macro select_bi_typed(relation, types) -%}
    {{ return(adapter.dispatch('select_bi_typed')(relation, types)) }}
{%- endmacro %}

{#- `select * replace` keeps every other column and the column order (DuckDB, BigQuery and
    Snowflake share this syntax; Spark would need a spark__ version listing the columns). -#}
{% macro default__select_bi_typed(relation, types) -%}
select * replace (
    {%- for column, type in types.items() %}
    cast({{ column }} as {{ type }}) as {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
)
from {{ relation }}
{%- endmacro %}
