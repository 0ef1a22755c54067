{#- One row per session: its visitor, start and end, the channel and device of its first
    event (metrics.md), and which funnel steps it reached. Incremental (DECISIONS 31, 36):
    an append-only build recomputes the sessions of each changed visitor's recomputed
    tail, those that start at or after its start. -#}
{{ config(materialized='incremental', incremental_strategy='replace_ranges',
          full_refresh=shop_full_refresh(), unique_key='visitor_id',
          replace_ranges={'rows': 'session_tails', 'column': 'started_at'},
          meta={'append_entities': ['events']}) }}
{{ build_state_dependencies(['base_shop__events']) }}

{%- if is_incremental() %}
with tails as {{ materialized_cte() }} (
    {{ changed_event_tails(this, 'started_at', 'true') }}
),

events as (
    select sessionized.*
    from {{ ref('int_events_sessionized') }} as sessionized
    inner join tails
        on sessionized.visitor_id = tails.visitor_id
        and (tails.replaced_from is null or sessionized.occurred_at >= tails.replaced_from)
),
{%- else %}
with events as (
    select * from {{ ref('int_events_sessionized') }}
),
{%- endif %}

{#- One pass, no join: every session has exactly one start row (its visitor's first event,
    or the first after a gap), so `max(case when is_session_start then x end)` is the start
    row's x (null when it is null), as a join of the start rows to the aggregate gave it. -#}
sessions as (
    select
        session_key,
        max(case when is_session_start then visitor_id end) as visitor_id,
        max(case when is_session_start then customer_id end) as first_customer_id,
        max(case when is_session_start then occurred_at end) as started_at,
        max(case when is_session_start then event_date end) as session_date,
        max(case when is_session_start then channel_id end) as first_channel_id,
        max(case when is_session_start then campaign_id end) as campaign_id,
        max(case when is_session_start then device end) as device,
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
        session_key,
        visitor_id,
        coalesce(first_customer_id, any_customer_id) as customer_id,
        started_at,
        ended_at,
        session_date,
        coalesce(first_channel_id, {{ unknown_key() }}) as channel_id,
        campaign_id,
        device,
        event_count,
        page_view_count,
        product_view_count,
        {{ dbt.datediff('started_at', 'ended_at', 'second') }} as duration_seconds,
        has_product_view,
        has_add_to_cart,
        has_checkout,
        has_purchase
    from sessions
)

select * from final
