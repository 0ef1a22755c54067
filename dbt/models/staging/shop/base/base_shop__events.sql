{#- Incremental (DECISIONS 31): an append-only build re-ranks only the keys the new files hold. -#}
{{ config(materialized='incremental', incremental_strategy='replace_keys',
          full_refresh=shop_full_refresh(), unique_key=['event_id'],
          meta={'append_entities': ['events']}) }}
{{ build_state_dependencies() }}

with source as {{ inline_cte() }} (
    {{ ranked_source('events', [text('event_id')]) }}
),

typed as {{ inline_cte() }} (
    select
        {{ text('event_id') }} as event_id,
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        {{ text('occurred_at') }} as occurred_at_text,
        lower({{ text('event_type') }}) as event_type,
        {{ text('customer_id') }} as customer_id,
        {{ text('anonymous_id') }} as anonymous_id,
        {{ text('session_id') }} as session_id,
        {{ text('product_id') }} as product_id,
        {{ text('order_id') }} as order_id,
        {{ text('search_query') }} as search_query,
        {{ text('channel_id') }} as channel_id,
        {{ text('campaign_id') }} as campaign_id,
        lower({{ text('utm_source') }}) as utm_source,
        lower({{ text('utm_medium') }}) as utm_medium,
        {{ text('utm_campaign') }} as utm_campaign,
        lower({{ text('device') }}) as device,
        {{ text('page_url') }} as page_url,
        exact_duplicate_rank,
        _source_file,
        _source_line,
        _parse_error,
        _loaded_at,
        _key_repeats
    from source
),

checked as {{ inline_cte() }} (
    select
        *,
        {{ contract_rejection_reason('events') }} as rejection_reason
    from typed
),

final as (
    {{ ranked_versions('checked', ['event_id']) }}
)

select * from final
