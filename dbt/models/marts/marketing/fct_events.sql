{#- One row per behaviour event with its derived session. Unknown channels and products
    join to '-1'; anonymous events have no customer. Incremental (DECISIONS 31): an
    append-only build recomputes the events of the visitors whose events changed. -#}
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

channels as (
    select channel_id from {{ ref('stg_shop__channels') }}
),

products as (
    select product_id from {{ ref('stg_shop__products') }}
),

final as (
    select
        events.event_id,
        events.occurred_at,
        events.event_date,
        events.event_type,
        events.customer_id,
        events.visitor_id,
        events.session_key,
        events.is_session_start,
        case
            when events.product_id is null then null
            else coalesce(products.product_id, {{ unknown_key() }})
        end as product_id,
        events.order_id,
        events.search_query,
        case
            when events.channel_id is null then null
            else coalesce(channels.channel_id, {{ unknown_key() }})
        end as channel_id,
        events.campaign_id,
        events.device
    from events
    left join channels on events.channel_id = channels.channel_id
    left join products on events.product_id = products.product_id
)

select * from final
