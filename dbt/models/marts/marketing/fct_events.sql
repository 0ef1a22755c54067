{#- One row per behaviour event with its derived session. Unknown channels and products
    join to '-1'; anonymous events have no customer. -#}
with events as (
    select * from {{ ref('int_events_sessionized') }}
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
