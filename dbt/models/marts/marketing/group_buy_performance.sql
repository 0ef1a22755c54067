{#- One row per group-buy campaign: groups started, completed (at least group_buy_min_size
    counted orders, the leader's included), completion rate, average group size, and the
    new customers sharers brought in. Business question: "do group buys spread by sharing?"
    A group is the orders with one group_buy_id, cancelled ones included (a group that fell
    apart was still started); its leader placed the first of them (ties by order_id) and the
    group's campaign is the leader's. Size, joiners and revenue count counted orders only. A
    joiner is a new customer when the group order is their first counted order. -#}
with group_orders as (
    select
        group_buy_id,
        order_id,
        customer_id,
        campaign_id,
        ordered_at,
        net_revenue_amount,
        is_new_customer_order,
        is_counted,
        row_number() over (partition by group_buy_id order by ordered_at, order_id) as position_in_group
    from {{ ref('fct_orders') }}
    where group_buy_id is not null
),

groups as (
    select
        group_buy_id,
        max(case when position_in_group = 1 then campaign_id end) as campaign_id,
        sum(case when is_counted then 1 else 0 end) as group_size,
        sum(case when position_in_group > 1 and is_counted then 1 else 0 end) as joiner_order_count,
        sum(case when is_counted then net_revenue_amount else 0 end) as net_revenue_amount,
        sum(case when position_in_group > 1 and is_counted and is_new_customer_order then 1 else 0 end)
            as new_customer_joiner_count
    from group_orders
    group by group_buy_id
),

by_campaign as (
    select
        coalesce(campaign_id, {{ unknown_key() }}) as campaign_id,
        count(*) as groups_started_count,
        sum(case when group_size >= {{ var('group_buy_min_size') }} then 1 else 0 end)
            as groups_completed_count,
        avg(cast(group_size as double)) as average_group_size,
        sum(joiner_order_count) as joiner_order_count,
        sum(new_customer_joiner_count) as new_customers_from_sharing_count,
        sum(net_revenue_amount) as net_revenue_amount
    from groups
    group by coalesce(campaign_id, {{ unknown_key() }})
),

final as (
    select
        by_campaign.campaign_id,
        campaigns.campaign_name,
        campaigns.start_date,
        campaigns.end_date,
        by_campaign.groups_started_count,
        by_campaign.groups_completed_count,
        {{ safe_divide('by_campaign.groups_completed_count', 'by_campaign.groups_started_count') }}
            as completion_rate,
        by_campaign.average_group_size,
        by_campaign.joiner_order_count,
        by_campaign.new_customers_from_sharing_count,
        by_campaign.net_revenue_amount
    from by_campaign
    left join {{ ref('dim_campaigns') }} as campaigns on by_campaign.campaign_id = campaigns.campaign_id
)

{{ select_bi_typed('final', {
    'groups_completed_count': type_count(),
    'joiner_order_count': type_count(),
    'new_customers_from_sharing_count': type_count(),
    'net_revenue_amount': type_money(),
}) }}
