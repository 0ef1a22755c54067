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

{% macro changed_event_tails(history, started_at='occurred_at', is_start='is_session_start') -%}
    {#- The tail of each changed visitor's history that an append-only build recomputes
        (DECISIONS 36). One row per visitor of any row (old or new version, valid or not)
        of an event_id the new files hold (an event re-delivered for another visitor
        changes both), with `changed_from`, the earliest time of those rows; then
        `replaced_from`, the start of the session holding the visitor's last event before
        `changed_from`, and `sessions_before_tail`, the sessions that start before it.
        An event's session depends only on the events before it, so the events before
        `changed_from` and their sessions are the same before and after the day; the
        session at `replaced_from` starts after a gap (or is the first), so no later event
        joins an earlier session. `replaced_from` is null (the whole history, numbered from
        1) for a visitor with no event before `changed_from`: a new one, or a late event
        before all of theirs. `history` holds one row per event (`int_events_sessionized`,
        `fct_events`) or per session (`int_sessions`); only its rows before `changed_from`
        are read, where the old and the new history agree, so it may be read before or
        after the day replaces its tail. -#}
    with changed_rows as (
        select
            {{ event_visitor_id('changed_row') }} as visitor_id,
            changed_row.occurred_at
        from {{ ref('base_shop__events') }} as changed_row
        where changed_row.event_id in (
            select new_rows.event_id
            from {{ ref('base_shop__events') }} as new_rows
            where new_rows._source_file in ({{ new_source_files('events') }})
        )
    ),

    changed_visitors as (
        select visitor_id, min(occurred_at) as changed_from
        from changed_rows
        group by visitor_id
    ),

    session_starts as (
        select history.visitor_id, history.{{ started_at }} as started_at
        from {{ history }} as history
        where {{ is_start }}
            and history.visitor_id in (select changed_visitors.visitor_id from changed_visitors)
    ),

    final as (
        select
            changed_visitors.visitor_id,
            max(session_starts.started_at) as replaced_from,
            greatest(count(session_starts.started_at) - 1, 0) as sessions_before_tail
        from changed_visitors
        left join session_starts
            on changed_visitors.visitor_id = session_starts.visitor_id
            and session_starts.started_at < changed_visitors.changed_from
        group by changed_visitors.visitor_id
    )

    select * from final
{%- endmacro %}

{% macro changed_attribution_orders() -%}
    {#- The orders whose touches an append-only build recomputes (DECISIONS 36), as one
        row per customer: the orders at or after `replaced_from` (all of them when it is
        null). An order's touches depend on its own row of fct_orders (its customer's
        order sequence counts only the orders before it) and on the sessions that started
        at or before it, so an order before every changed one of its customer and before
        the start of its customer's recomputed sessions keeps its touches. Per customer:
        the earliest time of any version (old or new, valid or not) of a changed order
        (changed_order_ids()) of theirs, and the start of their recomputed tail
        (changed_event_tails()); for the unknown member the earliest of every changed
        order's versions (an order whose customer is unknown in any version is one of
        them). A version without a time recomputes all of its customer's orders. -#}
    with changed_versions as (
        select changed_orders.customer_id, changed_orders.ordered_at
        from {{ ref('base_shop__orders') }} as changed_orders
        where changed_orders.order_id in ({{ changed_order_ids() }})
    ),

    ranges as (
        select customer_id, ordered_at as replaced_from
        from changed_versions
        where customer_id is not null
        union all
        select {{ unknown_key() }}, ordered_at
        from changed_versions
        union all
        select tails.visitor_id, tails.replaced_from
        from ({{ changed_event_tails(ref('int_sessions'), 'started_at', 'true') }}) as tails
    ),

    final as (
        select
            customer_id,
            case when max(case when replaced_from is null then 1 else 0 end) = 1 then null
                 else min(replaced_from) end as replaced_from
        from ranges
        group by customer_id
    )

    select * from final
{%- endmacro %}

{% macro shop_replaced_ranges(target, replaced) -%}
    {#- The key ranges a `replace_ranges` model replaces (config `replace_ranges`: `rows`
        names the ranges, `column` the model's column they bound). -#}
    {%- if replaced['rows'] == 'event_tails' -%}
        {{ return(changed_event_tails(target)) }}
    {%- elif replaced['rows'] == 'session_tails' -%}
        {{ return(changed_event_tails(target, 'started_at', 'true')) }}
    {%- elif replaced['rows'] == 'attribution_orders' -%}
        {{ return(changed_attribution_orders()) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("replace_ranges: unknown rows '" ~ replaced['rows'] ~ "'") }}
{%- endmacro %}

{% macro get_incremental_replace_ranges_sql(arg_dict) -%}
    {#- Custom strategy `replace_ranges` (DECISIONS 36): delete every target row of a key
        in the model's ranges at or after the key's `replaced_from` (every row of the key
        when it is null), then insert the new rows. The ranges are computed from the
        target before it changes, so a key whose rows all left (an event re-delivered for
        another visitor) is deleted too, and they are what is logged as replaced. -#}
    {{ return(adapter.dispatch('shop_replace_ranges_sql')(
        arg_dict["target_relation"], arg_dict["temp_relation"], arg_dict["unique_key"],
        arg_dict["dest_columns"], config.get('replace_ranges'))) }}
{%- endmacro %}

{% macro default__shop_replace_ranges_sql(target, source, unique_key, dest_columns, replaced) -%}
    {#- Only the Dagster step on DuckDB builds incrementally (shop_full_refresh()); another
        engine running the project builds these models full (DECISIONS 31, 36). -#}
    {{ exceptions.raise_compiler_error("incremental strategy replace_ranges is written for "
        ~ "DuckDB (DECISIONS 36): build " ~ target ~ " with --full-refresh") }}
{%- endmacro %}

{% macro duckdb__shop_replace_ranges_sql(target, source, unique_key, dest_columns, replaced) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    {%- set ranges = adapter.quote(target.identifier ~ '__replaced_ranges') -%}
    create or replace temporary table {{ ranges }} as
    {{ shop_replaced_ranges(target, replaced) }};
    {{ shop_log_replaced_keys(target, ranges, keys) }};
    {{ shop_log_replaced_ranges(target, ranges, keys, replaced['column']) }};
    {#- `using` joins the two tables; a correlated `exists` took twenty times longer on
        DuckDB (3 CPU seconds for 11M events at scale 1). #}
    delete from {{ target }}
    using {{ ranges }} as replacing
    where {% for key in keys %}replacing.{{ key }} is not distinct from {{ target }}.{{ key }} and {% endfor %}
        (replacing.replaced_from is null
         or {{ target }}.{{ replaced['column'] }} >= replacing.replaced_from);
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }};
    drop table {{ ranges }}
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
