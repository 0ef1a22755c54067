{#- The tests of an incremental build check the rows it replaced (issue 18).

    When the Dagster step builds the append-only facts incrementally (var shop_incremental),
    the rows of an incremental model that this invocation did not replace are the rows the
    last successful build tested, unchanged. A blocking (severity error) row-level test
    (not_null, accepted_values, relationships) of such a model then reads only the replaced
    rows: those whose unique_key hashes to a key this invocation logged
    (macros/change_log.sql). So does such a test of a staging view of the valid latest
    rows of an incremental base (macro staged_current, a row-wise filter), by the base's
    keys. unique and unique_combination count over the whole table the
    values that the replaced rows hold, so a new row that repeats an untouched row's value
    still fails. A test that reads another model this invocation rebuilds (relationships to a
    rebuilt dimension) stays whole: its parent may have lost a value untouched rows use. So
    does every test of a model this invocation built whole, every warn-severity test, every
    other kind of test, and any test of a run without shop_incremental or with
    --full-refresh. -#}

{% macro get_where_subquery(relation) -%}
    {#- Overrides dbt's: the test config `where`, and the replaced rows when that is sound. -#}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where %}{% do conditions.append('(' ~ where ~ ')') %}{% endif -%}
    {%- set changed = shop_changed_rows_filter() -%}
    {%- if changed %}{% do conditions.append(changed) %}{% endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ conditions | join(' and ')
                      ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{% macro shop_tested_incremental_node() -%}
    {#- When the current test may read only the rows this invocation replaced: the model
        it is attached to (`tested`) and the incremental model whose replaced keys those
        rows have (`keyed`, the same model or the base of a staging view); else none. -#}
    {%- if not execute or not var('shop_incremental', false) or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if (config.get('severity') or 'error') | lower != 'error' -%}{{ return(none) }}{%- endif -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- if test_name not in ('not_null', 'accepted_values', 'relationships', 'unique',
                             'unique_combination') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- if not tested -%}{{ return(none) }}{%- endif -%}
    {%- set keyed = tested -%}
    {%- if tested.config.materialized == 'view' and tested.depends_on.nodes | length == 1
           and tested.depends_on.macros | select('equalto', 'macro.' ~ project_name
                                                  ~ '.staged_current') | list -%}
        {#- A staging view of the valid latest rows (staged_current): a row-wise filter of
            its incremental base, so its rows change only for the base's replaced keys. -#}
        {%- set keyed = graph.nodes.get(tested.depends_on.nodes[0]) -%}
    {%- endif -%}
    {%- if not keyed or keyed.config.materialized != 'incremental'
           or not keyed.config.unique_key -%}
        {{ return(none) }}
    {%- endif -%}
    {%- for other in model.depends_on.nodes
            if other != tested.unique_id and other in (selected_resources or []) -%}
        {{ return(none) }}
    {%- endfor -%}
    {{ return({'tested': tested, 'keyed': keyed}) }}
{%- endmacro %}

{% macro shop_changed_rows_filter() -%}
    {#- A predicate over the tested model's columns: the rows this invocation replaced, or
        every row when it did not build the model incrementally after all (a missing table
        is created whole). Empty when the test must read every row. -#}
    {%- set nodes = shop_tested_incremental_node() -%}
    {%- if nodes is none -%}{{ return('') }}{%- endif -%}
    {%- set keyed = nodes['keyed'] -%}
    {%- set keys = [keyed.config.unique_key] if keyed.config.unique_key is string
                   else keyed.config.unique_key -%}
    {%- set logged -%}
        from {{ shop_change_log() }} as logged
        where logged.relation = {{ shop_sql_text(shop_relation_name(keyed)) }}
            and logged.invocation_id = {{ shop_sql_text(invocation_id) }}
            and logged.kind = 'keys'
    {%- endset -%}
    {{ return('(hash(' ~ keys | join(', ') ~ ') in (select logged.key_hash ' ~ logged ~ ')'
              ~ ' or not exists (select 1 ' ~ logged ~ ' and logged.key_hash is null))') }}
{%- endmacro %}

{% macro shop_whole_tested_relation() -%}
    {#- For unique tests: the whole tested model (with the test's `where`) when the test's
        `model` holds only the replaced rows; else none. -#}
    {%- set nodes = shop_tested_incremental_node() -%}
    {%- if nodes is none -%}{{ return(none) }}{%- endif -%}
    {%- set tested = nodes['tested'] -%}
    {%- set relation = api.Relation.create(database=tested.database, schema=tested.schema,
                                           identifier=tested.alias or tested.name) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {{ return('(select * from ' ~ relation ~ ' where (' ~ where ~ ')) dbt_whole') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{% macro default__test_unique(model, column_name) -%}
    {#- dbt's unique; on replaced rows, their values are counted over the whole table. -#}
    {%- set whole = shop_whole_tested_relation() %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ whole or model }}
where {{ column_name }} is not null
    {%- if whole %}
    and {{ column_name }} in (select {{ column_name }} from {{ model }})
    {%- endif %}
group by {{ column_name }}
having count(*) > 1
{%- endmacro %}
