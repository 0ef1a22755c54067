{#- The change log `raw._model_changes` (issue 18): what each dbt invocation changed in which
    relation, so that the tests of an incremental build check the rows it replaced
    (macros/tests_on_changed_rows.sql) and the serving copy re-copies only what changed
    since it was published (dagster_project/serving/publish.py). Rows, by `kind`:
    - `keys`: the relation was built incrementally; one row per replaced key (`key_hash`
      = hash() of the model's unique_key columns, named in `key_columns`) plus one row with
      an empty key_hash saying that this invocation built it incrementally (strategy
      `replace_keys`);
    - `table`: the relation was built by this invocation some other way (whole);
    - `running`: relation `*`, while the invocation runs; an invocation that stops before
      its on-run-end hook leaves it, and the next publish copies everything.
    - `published`: relation `*`, the serving copy published when the rows before it were
      pruned (dagster_project/ledger.py, which reads and prunes the log; its DDL there is
      the same).
    Beside it `raw._model_change_ranges`: for a key that strategy `replace_ranges` logged,
    the rows it replaced are those at or after `replaced_from` in `range_column` (a key
    logged without a range row was replaced whole; DECISIONS 36). -#}

{% macro shop_change_log() -%}
    raw._model_changes
{%- endmacro %}

{% macro shop_change_ranges() -%}
    raw._model_change_ranges
{%- endmacro %}

{% macro shop_sql_text(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro shop_relation_name(node) -%}
    {{- node.schema ~ '.' ~ (node.alias or node.name) -}}
{%- endmacro %}

{% macro shop_change_log_start() -%}
    {#- on-run-start: the log exists, and this invocation is marked as running. -#}
    create schema if not exists raw;
    create table if not exists {{ shop_change_log() }} (
        relation varchar, invocation_id varchar, kind varchar, key_columns varchar,
        key_hash ubigint, logged_at timestamp);
    create table if not exists {{ shop_change_ranges() }} (
        relation varchar, invocation_id varchar, key_hash ubigint, range_column varchar,
        replaced_from timestamp, logged_at timestamp);
    insert into {{ shop_change_log() }}
    values ('*', {{ shop_sql_text(invocation_id) }}, 'running', null, null, now()::timestamp)
{%- endmacro %}

{% macro shop_change_log_end(results) -%}
    {#- on-run-end: every model this invocation ran that it did not build incrementally
        changed whole (a failed or skipped one too: cheaper to re-copy than to reason). -#}
    {%- set built = [] -%}
    {%- for result in results if result.node.resource_type in ('model', 'seed', 'snapshot') -%}
        {%- do built.append(shop_relation_name(result.node)) -%}
    {%- endfor -%}
    {%- if built %}
    insert into {{ shop_change_log() }}
    select built.relation, {{ shop_sql_text(invocation_id) }}, 'table', null, null,
        now()::timestamp
    from (values {% for relation in built %}({{ shop_sql_text(relation) }}){{ ", " if not loop.last }}{% endfor %}) as built (relation)
    where not exists (
        select 1 from {{ shop_change_log() }} as logged
        where logged.relation = built.relation
            and logged.invocation_id = {{ shop_sql_text(invocation_id) }}
            and logged.kind = 'keys'
    );
    {%- endif %}
    delete from {{ shop_change_log() }}
    where relation = '*' and invocation_id = {{ shop_sql_text(invocation_id) }}
{%- endmacro %}

{% macro shop_log_replaced_keys(target, source, keys) -%}
    {#- In strategy `replace_keys`, before the delete: the keys the new rows replace. -#}
    {%- set relation = shop_sql_text(target.schema ~ '.' ~ target.identifier) -%}
    {%- set key_columns = shop_sql_text(keys | join(', ')) %}
    insert into {{ shop_change_log() }}
    select {{ relation }}, {{ shop_sql_text(invocation_id) }}, 'keys', {{ key_columns }}, null,
        now()::timestamp
    union all
    select distinct {{ relation }}, {{ shop_sql_text(invocation_id) }}, 'keys',
        {{ key_columns }}, hash({{ keys | join(', ') }}), now()::timestamp
    from {{ source }}
{%- endmacro %}

{% macro shop_log_replaced_ranges(target, ranges, keys, column) -%}
    {#- In strategy `replace_ranges`, beside the keys: from where each key was replaced. -#}
    insert into {{ shop_change_ranges() }}
    select {{ shop_sql_text(target.schema ~ '.' ~ target.identifier) }},
        {{ shop_sql_text(invocation_id) }}, hash({{ keys | join(', ') }}),
        {{ shop_sql_text(column) }}, replaced_from, now()::timestamp
    from {{ ranges }}
{%- endmacro %}
