{#- The columns together identify one row (a compound primary key). On the rows an
    incremental build replaced (macros/tests_on_changed_rows.sql), the combinations they
    hold are counted over the whole table (by hash: a collision only counts more rows). -#}
{% test unique_combination(model, columns) %}
{%- set whole = shop_whole_tested_relation() %}
select {{ columns | join(", ") }}, count(*) as row_count
from {{ whole or model }}
{%- if whole %}
where hash({{ columns | join(", ") }}) in (
    select hash({{ columns | join(", ") }}) from {{ model }}
)
{%- endif %}
group by {{ columns | join(", ") }}
having count(*) > 1
{% endtest %}
