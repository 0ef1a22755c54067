{#- One row per event_id: valid rows of the events export, exact duplicates dropped, latest version kept. -#}
{#- A view: its readers filter the base table themselves, so the valid rows are never copied (issue 18). -#}
{{ config(materialized='view') }}

with current_rows as (
    {{ staged_current('base_shop__events') }}
),

final as (
    select
        event_id,
        occurred_at,
        event_type,
        customer_id,
        anonymous_id,
        session_id,
        product_id,
        order_id,
        search_query,
        channel_id,
        campaign_id,
        utm_source,
        utm_medium,
        utm_campaign,
        device,
        page_url
    from current_rows
)

select * from final
