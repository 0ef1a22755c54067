{#- One row per campaign: spend and delivery, members by test group, credited orders and
    revenue, ROI and ROAS (metrics.md), and the members' conversion rates by group. Orders
    are credited to the campaign recorded on the order. -#}
with campaigns as (
    select * from {{ ref('dim_campaigns') }} where not is_unknown_member
),

spend as (
    select
        campaign_id,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend_amount) as spend_amount
    from {{ ref('fct_ad_spend') }}
    where campaign_id is not null
    group by campaign_id
),

orders as (
    select
        campaign_id,
        count(*) as order_count,
        count(distinct customer_id) as ordering_customer_count,
        sum(net_revenue_amount) as net_revenue_amount
    from {{ ref('fct_orders') }}
    where is_counted and campaign_id is not null
    group by campaign_id
),

members as (
    select
        campaign_id,
        count(*) as member_count,
        sum(case when test_group = 'treatment' then 1 else 0 end) as treatment_count,
        sum(case when test_group = 'control' then 1 else 0 end) as control_count,
        sum(case when test_group = 'treatment' and has_converted then 1 else 0 end)
            as treatment_conversion_count,
        sum(case when test_group = 'control' and has_converted then 1 else 0 end)
            as control_conversion_count
    from {{ ref('fct_campaign_members') }}
    group by campaign_id
),

joined as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_type,
        campaigns.channel_id,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.budget_amount,
        campaigns.target_segment,
        coalesce(spend.impressions, 0) as impressions,
        coalesce(spend.clicks, 0) as clicks,
        coalesce(spend.spend_amount, 0) as spend_amount,
        coalesce(orders.order_count, 0) as order_count,
        coalesce(orders.ordering_customer_count, 0) as ordering_customer_count,
        coalesce(orders.net_revenue_amount, 0) as net_revenue_amount,
        coalesce(members.member_count, 0) as member_count,
        coalesce(members.treatment_count, 0) as treatment_count,
        coalesce(members.control_count, 0) as control_count,
        coalesce(members.treatment_conversion_count, 0) as treatment_conversion_count,
        coalesce(members.control_conversion_count, 0) as control_conversion_count
    from campaigns
    left join spend on campaigns.campaign_id = spend.campaign_id
    left join orders on campaigns.campaign_id = orders.campaign_id
    left join members on campaigns.campaign_id = members.campaign_id
),

final as (
    select
        joined.*,
        {{ safe_divide('clicks', 'impressions') }} as click_through_rate,
        {{ safe_divide('net_revenue_amount', 'spend_amount') }} as return_on_ad_spend,
        {{ safe_divide('net_revenue_amount - spend_amount', 'spend_amount') }} as return_on_investment,
        {{ safe_divide('treatment_conversion_count', 'treatment_count') }} as treatment_conversion_rate,
        {{ safe_divide('control_conversion_count', 'control_count') }} as control_conversion_rate
    from joined
)

{{ select_bi_typed('final', {
    'budget_amount': type_money(),
    'impressions': type_count(),
    'clicks': type_count(),
    'spend_amount': type_money(),
    'net_revenue_amount': type_money(),
    'treatment_count': type_count(),
    'control_count': type_count(),
    'treatment_conversion_count': type_count(),
    'control_conversion_count': type_count(),
}) }}
