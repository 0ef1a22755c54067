{#- One row per session: its visitor, start and end, the channel and device of its first
    event (metrics.md), and which funnel steps it reached. Incremental (DECISIONS 31): an
    append-only build recomputes the sessions of the visitors whose events changed. -#}
{{ config(materialized='incremental', incremental_strategy='replace_keys',
          full_refresh=shop_full_refresh(), unique_key='visitor_id',
          meta={'append_entities': ['events']}) }}
{{ build_state_dependencies(['base_shop__events']) }}

with events as (
    select * from {{ ref('int_events_sessionized') }}
    {%- if is_incremental() %}
    where visitor_id in ({{ changed_event_visitors() }})
    {%- endif %}
),

first_touch as (
    select
        session_key,
        visitor_id,
        customer_id,
        occurred_at as started_at,
        event_date as session_date,
        channel_id,
        campaign_id,
        device
    from events
    where is_session_start
),

steps as (
    select
        session_key,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        max(customer_id) as any_customer_id,
        sum(case when event_type = 'page_view' then 1 else 0 end) as page_view_count,
        sum(case when event_type = 'product_view' then 1 else 0 end) as product_view_count,
        max(case when event_type = 'product_view' then 1 else 0 end) = 1 as has_product_view,
        max(case when event_type = 'add_to_cart' then 1 else 0 end) = 1 as has_add_to_cart,
        max(case when event_type = 'checkout_start' then 1 else 0 end) = 1 as has_checkout,
        max(case when event_type = 'purchase' then 1 else 0 end) = 1 as has_purchase
    from events
    group by session_key
),

final as (
    select
        first_touch.session_key,
        first_touch.visitor_id,
        coalesce(first_touch.customer_id, steps.any_customer_id) as customer_id,
        first_touch.started_at,
        steps.ended_at,
        first_touch.session_date,
        coalesce(first_touch.channel_id, {{ unknown_key() }}) as channel_id,
        first_touch.campaign_id,
        first_touch.device,
        steps.event_count,
        steps.page_view_count,
        steps.product_view_count,
        {{ dbt.datediff('first_touch.started_at', 'steps.ended_at', 'second') }} as duration_seconds,
        steps.has_product_view,
        steps.has_add_to_cart,
        steps.has_checkout,
        steps.has_purchase
    from first_touch
    inner join steps on first_touch.session_key = steps.session_key
)

select * from final
