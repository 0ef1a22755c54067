-- Campaigns: return on spend, before/after, A/B uplift with its interval, group buys.
-- Every figure is a column of marts.campaign_evaluation or marts.group_buy_performance.

-- name: roi
-- Campaigns with spend: ROI and ROAS on credited net revenue.
select
    campaign_name,
    campaign_type,
    spend_amount,
    net_revenue_amount,
    return_on_investment,
    return_on_ad_spend
from marts.campaign_evaluation
where spend_amount > 0
order by return_on_investment desc nulls last, campaign_name;

-- name: before_after
-- The audience's counted orders' net revenue in the campaign window and just before it.
select
    campaign_name,
    audience,
    window_days,
    net_revenue_before_amount,
    net_revenue_during_amount,
    net_revenue_change_rate
from marts.campaign_evaluation
where net_revenue_before_amount is not null or net_revenue_during_amount is not null
order by start_date, campaign_name;

-- name: uplift
-- Campaigns with a control group: conversion uplift and its interval (forest plot).
select
    campaign_name,
    treatment_count,
    control_count,
    treatment_conversion_rate,
    control_conversion_rate,
    conversion_uplift,
    conversion_uplift_lower,
    conversion_uplift_upper,
    p_value,
    incremental_revenue_amount
from marts.campaign_evaluation
where conversion_uplift is not null
order by conversion_uplift, campaign_name;

-- name: group_buys
-- Group-buy campaigns: groups started and completed, new customers brought by sharing.
select
    campaign_name,
    groups_started_count,
    groups_completed_count,
    completion_rate,
    average_group_size,
    new_customers_from_sharing_count,
    net_revenue_amount
from marts.group_buy_performance
order by start_date, campaign_name;
