{#- One row per behaviour event with its derived session. Unknown channels and products
    join to '-1'; anonymous events have no customer. Incremental (DECISIONS 31, 36): an
    append-only build recomputes the events of each changed visitor's recomputed tail. -#}
{{ config(materialized='incremental', incremental_strategy='replace_ranges',
          full_refresh=shop_full_refresh(), unique_key='visitor_id',
          replace_ranges={'rows': 'event_tails', 'column': 'occurred_at'},
          meta={'append_entities': ['events']}) }}
{{ build_state_dependencies(['base_shop__events']) }}

{%- if is_incremental() %}
with tails as {{ materialized_cte() }} (
    {{ changed_event_tails(this) }}
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
