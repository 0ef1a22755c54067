{#- Schemas are named as configured (staging, intermediate, marts, audit), not prefixed
    with the target schema: BI users look for `marts.customers`, not `main_marts.customers`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
