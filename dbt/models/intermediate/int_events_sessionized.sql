{#- One row per event, with the session it belongs to (metrics.md "session": one visitor's
    events with no gap over session_timeout_minutes) and the channel it resolves to
    (channel_id, else the utm_source mapping). Exported session ids are kept but not
    trusted: sessions are derived the same way for every shop. Incremental (DECISIONS 31,
    36): an append-only build recomputes the tail of each changed visitor's history, from
    the start of the session of their last event before the earliest changed one, and
    numbers its sessions on from those before it. -#}
{{ config(materialized='incremental', incremental_strategy='replace_ranges',
          full_refresh=shop_full_refresh(), unique_key='visitor_id',
          replace_ranges={'rows': 'event_tails', 'column': 'occurred_at'},
          meta={'append_entities': ['events']}) }}
{{ build_state_dependencies(['base_shop__events']) }}

{#- A full build inlines the staged events (10M rows, never copied); an incremental one
    copies the tails of the changed visitors' histories once, which costs less than
    filtering the whole staged view twice (DECISIONS 35, 36). #}
{%- if is_incremental() %}
with tails as {{ materialized_cte() }} (
    {{ changed_event_tails(this) }}
),

events as {{ materialized_cte() }} (
    select staged_events.*, tails.sessions_before_tail
    from {{ ref('stg_shop__events') }} as staged_events
    inner join tails
        on {{ event_visitor_id('staged_events') }} = tails.visitor_id
        and (tails.replaced_from is null or staged_events.occurred_at >= tails.replaced_from)
),
{%- else %}
with events as {{ inline_cte() }} (
    select * from {{ ref('stg_shop__events') }} as staged_events
),
{%- endif %}

utm_channels as (
    select * from {{ ref('utm_source_channels') }}
),

visitors as {{ inline_cte() }} (
    select
        events.*,
        {{ event_visitor_id('events') }} as visitor_id,
        coalesce(events.channel_id, utm_channels.channel_id) as resolved_channel_id
    from events
    left join utm_channels on events.utm_source = utm_channels.utm_source
),

{#- The two windows sort only the three columns they need (event_id is unique), and the
    result joins back to the events: sorting all twenty columns twice cost more (and spills).
    In a full build `events` and `visitors` are inlined, so the staged events are read
    twice from the base table, never copied; the windows' read takes only the columns they
    need. -#}
gaps as (
    select
        event_id,
        visitor_id,
        occurred_at,
        lag(occurred_at) over (partition by visitor_id order by occurred_at, event_id)
            as previous_occurred_at
    from (
        select
            events.event_id,
            events.occurred_at,
            {{ event_visitor_id('events') }} as visitor_id
        from events
    ) as visitor_events
),

starts as (
    select
        gaps.*,
        case
            when previous_occurred_at is null then 1
            when {{ dbt.datediff('previous_occurred_at', 'occurred_at', 'second') }}
                > {{ var('session_timeout_minutes') }} * 60 then 1
            else 0
        end as is_session_start
    from gaps
),

session_numbers as (
    select
        event_id,
        is_session_start,
        sum(is_session_start) over (
            partition by visitor_id order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as visitor_session_number
    from starts
),

numbered as (
    select
        visitors.*,
        session_numbers.is_session_start,
        session_numbers.visitor_session_number
            {%- if is_incremental() %} + visitors.sessions_before_tail{% endif %}
            as visitor_session_number
    from visitors
    inner join session_numbers on visitors.event_id = session_numbers.event_id
),

final as (
    select
        event_id,
        occurred_at,
        cast(occurred_at as date) as event_date,
        event_type,
        customer_id,
        anonymous_id,
        visitor_id,
        {{ dbt.concat(["visitor_id", "'#'", dbt.safe_cast("visitor_session_number", dbt.type_string())]) }}
            as session_key,
        session_id as exported_session_id,
        is_session_start = 1 as is_session_start,
        product_id,
        order_id,
        search_query,
        resolved_channel_id as channel_id,
        campaign_id,
        utm_source,
        utm_medium,
        utm_campaign,
        device,
        page_url
    from numbered
)

select * from final
