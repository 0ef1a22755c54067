{#- One row per campaign member: assignment, delivery funnel and whether the member
    converted (metrics.md "uplift": a counted order between assigned_at and the campaign's
    end, or uplift_default_window_days after assigned_at if it has no end). -#}
with members as (
    select * from {{ ref('stg_shop__campaign_members') }}
),

campaigns as (
    select * from {{ ref('stg_shop__campaigns') }}
),

orders as (
    select customer_id, ordered_at, net_revenue_amount
    from {{ ref('fct_orders') }}
    where is_counted
),

windows as (
    select
        members.*,
        coalesce(
            campaigns.ends_at,
            {{ dbt.dateadd('day', var('uplift_default_window_days'), 'members.assigned_at') }}
        ) as window_ends_at,
        campaigns.campaign_id is not null as has_known_campaign
    from members
    left join campaigns on members.campaign_id = campaigns.campaign_id
),

conversions as (
    select
        windows.campaign_id,
        windows.customer_id,
        count(orders.customer_id) as converted_order_count,
        coalesce(sum(orders.net_revenue_amount), 0) as converted_revenue_amount
    from windows
    left join orders
        on windows.customer_id = orders.customer_id
        and orders.ordered_at >= windows.assigned_at
        and orders.ordered_at <= windows.window_ends_at
    group by windows.campaign_id, windows.customer_id
),

final as (
    select
        windows.campaign_id,
        windows.customer_id,
        windows.test_group,
        windows.assigned_at,
        windows.window_ends_at,
        windows.delivered_at is not null as is_delivered,
        windows.opened_at is not null as is_opened,
        windows.clicked_at is not null as is_clicked,
        conversions.converted_order_count > 0 as has_converted,
        conversions.converted_order_count,
        conversions.converted_revenue_amount,
        windows.has_known_campaign
    from windows
    inner join conversions
        on windows.campaign_id = conversions.campaign_id
        and windows.customer_id = conversions.customer_id
)

{{ select_bi_typed('final', {
    'converted_revenue_amount': type_money(),
}) }}
