{#- Incremental builds of append-only facts (issue 18, DECISIONS 31).
    The Dagster step runs dbt with --full-refresh unless every change since the last
    successful build only added files (dagster_project/transform/assets.py); the models'
    incremental branches may therefore assume that old files are unchanged and that the
    files not yet in raw._built_files are the only new rows. -#}

{% macro shop_full_refresh() -%}
    {#- The incremental models' `full_refresh` config: always full, unless the caller is the
        Dagster step, which knows what changed and passes `shop_incremental: true` (a var it
        leaves out of the project digest) on every build; then dbt's --full-refresh flag
        decides (config none), which the step adds unless the change was append-only. A
        plain `dbt build` or the erasure's rebuild is always full, so no run that does not
        know what changed reads the files list as "new rows". -#}
    {{ return(none if var('shop_incremental', false) else true) }}
{%- endmacro %}

{% macro new_source_files(entity) -%}
    {#- Names of the entity's files loaded since the last successful dbt build: the rows
        whose `_source_file` is one of them are the new raw rows. -#}
    select loaded.source_file
    from {{ source('build_state', 'files') }} as loaded
    where loaded.entity = '{{ entity }}'
        and loaded.source_path not in (
            select built.source_path
            from {{ source('build_state', 'built_files') }} as built
            where built.entity = '{{ entity }}'
        )
{%- endmacro %}

{% macro build_state_dependencies(models=[]) -%}
    {#- dbt finds refs and sources of a model with is_incremental() false, so the sources
        and models that only the incremental branch reads are named here for the lineage. -#}
    -- depends_on: {{ source('build_state', 'files') }}, {{ source('build_state', 'built_files') }}
    {%- for model in models %}, {{ ref(model) }}{% endfor %}
{%- endmacro %}

{% macro changed_keys_filter(entity, key_expressions) -%}
    {#- A where clause over the entity's raw rows keeping every row (old or new) of the keys
        that the new files hold, so versions and exact duplicates of a key spanning old and
        new files rank exactly as in a full build. -#}
    where hash({{ key_expressions | join(', ') }}) in (
        select hash({{ key_expressions | join(', ') }})
        from {{ source('shop', entity) }}
        where _source_file in ({{ new_source_files(entity) }})
    )
{%- endmacro %}

{% macro event_visitor_id(relation) -%}
    {#- The visitor of an event (metrics.md "session"): the customer, else the anonymous
        visitor, else the exported session, else the event itself. -#}
    coalesce({{ relation }}.customer_id, {{ relation }}.anonymous_id, {{ relation }}.session_id,
             {{ relation }}.event_id)
{%- endmacro %}

{% macro changed_event_visitors() -%}
    {#- The visitors whose events may have changed since the last successful build: of every
        staged row (old or new version, valid or not) of an event_id that the new events
        files hold. A superset of the visitors an event left or joined; their sessions are
        recomputed whole. -#}
    select distinct {{ event_visitor_id('changed_rows') }} as visitor_id
    from {{ ref('base_shop__events') }} as changed_rows
    where changed_rows.event_id in (
        select new_rows.event_id
        from {{ ref('base_shop__events') }} as new_rows
        where new_rows._source_file in ({{ new_source_files('events') }})
    )
{%- endmacro %}

{% macro get_incremental_replace_keys_sql(arg_dict) -%}
    {#- Custom strategy `replace_keys`: delete every target row whose key (null-safe, so a
        key left empty by a quarantined row is replaced too) the new rows hold, then insert
        the new rows. Like delete+insert, for models with several rows per key. -#}
    {{ return(adapter.dispatch('shop_replace_keys_sql')(
        arg_dict["target_relation"], arg_dict["temp_relation"], arg_dict["unique_key"],
        arg_dict["dest_columns"])) }}
{%- endmacro %}

{% macro default__shop_replace_keys_sql(target, source, unique_key, dest_columns) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    {{ shop_log_replaced_keys(target, source, keys) }};
    delete from {{ target }}
    where exists (
        select 1
        from {{ source }} as replacing
        where {% for key in keys %}replacing.{{ key }} is not distinct from {{ target }}.{{ key }}{{ " and " if not loop.last }}{% endfor %}
    );
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}

{% macro changed_order_ids() -%}
    {#- Orders whose rows or lines the new orders and order_items files touch: the order ids
        of every row of those keys. -#}
    select new_orders.order_id
    from {{ ref('base_shop__orders') }} as new_orders
    where new_orders._source_file in ({{ new_source_files('orders') }})
        and new_orders.order_id is not null
    union
    select new_lines.order_id
    from {{ ref('base_shop__order_items') }} as new_lines
    where new_lines._source_file in ({{ new_source_files('order_items') }})
        and new_lines.order_id is not null
{%- endmacro %}

{% macro changed_order_customers() -%}
    {#- Customers of any version (old or new, valid or not) of a changed order: their order
        sequences are recomputed whole. -#}
    select distinct changed_orders.customer_id
    from {{ ref('base_shop__orders') }} as changed_orders
    where changed_orders.order_id in ({{ changed_order_ids() }})
        and changed_orders.customer_id is not null
{%- endmacro %}

{% macro changed_attribution_customers() -%}
    {#- Customers whose counted orders' touches may have changed: those of a changed order
        (any version), those whose sessions changed (a session has a customer only when its
        visitor is that customer), and the unknown member, whose orders keep their own
        touch (recomputed whole: it is small, and an order's customer may become unknown). -#}
    select customer_id from ({{ changed_order_customers() }}) as order_customers
    union
    select visitor_id from ({{ changed_event_visitors() }}) as event_visitors
    union
    select {{ unknown_key() }}
{%- endmacro %}

{% macro shop_defer_checkpoints() -%}
    {#- on-run-start of an incremental day (DECISIONS 35): every commit goes to the WAL and
        DuckDB checkpoints once, when dbt closes the file. By default a commit whose WAL
        would exceed `auto_checkpoint_skip_wal_threshold` (100 kB) checkpoints instead and
        blocks the other thread's commits meanwhile, and the WAL is checkpointed every
        16 MiB: on a day's build of small replacements and rebuilt marts that serialised
        dbt's two threads. A full build (a plain `dbt build`, --full-refresh, the erasure's
        rebuild) keeps DuckDB's defaults: this emits nothing then, so the profile, the
        vars and dbt's parse stay as they are. -#}
    {%- if var('shop_incremental', false) and not flags.FULL_REFRESH -%}
    set global checkpoint_threshold = '1TB';
    set global auto_checkpoint_skip_wal_threshold = 1000000000000
    {%- else -%}
    select 1 as shop_checkpoints_by_default
    {%- endif -%}
{%- endmacro %}
