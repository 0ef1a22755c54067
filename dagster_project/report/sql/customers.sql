-- Customers: RFM segments, lifecycle stages, cohort retention, CLV by acquisition channel
-- (marts), and churn-risk tiers with the win-back list (ml.customer_churn_scores).

-- name: rfm_segments
-- Size and value of each RFM segment (monetary = net revenue of counted orders).
select
    rfm_segment,
    count(*) as customer_count,
    sum(monetary_amount) as net_revenue_amount,
    avg(monetary_amount) as average_net_revenue_amount
from marts.customer_segments
group by rfm_segment
order by net_revenue_amount desc;

-- name: lifecycle
-- Customers per lifecycle stage.
select
    lifecycle_stage,
    count(*) as customer_count,
    sum(monetary_amount) as net_revenue_amount
from marts.customer_segments
group by lifecycle_stage
order by case lifecycle_stage when 'new' then 1 when 'active' then 2
    when 'reactivated' then 3 when 'at_risk' then 4 when 'churned' then 5 else 6 end;

-- name: cohorts
-- Retention by acquisition month (the $cohort_count newest cohorts) and months since.
with newest as (
    select distinct cohort_month
    from marts.customer_cohorts
    order by cohort_month desc
    limit $cohort_count
)

select
    cast(cohorts.cohort_month as date) as cohort_month,
    cohorts.months_since_acquisition,
    cohorts.cohort_size,
    cohorts.retention_rate
from marts.customer_cohorts as cohorts
inner join newest on cohorts.cohort_month = newest.cohort_month
order by cohorts.cohort_month, cohorts.months_since_acquisition;

-- name: clv_by_channel
-- Customer lifetime value and acquisition cost per acquisition channel.
select
    channel_name,
    is_paid,
    customers_acquired_count,
    average_clv_first_90_days_amount,
    average_clv_first_365_days_amount,
    average_historical_clv_amount,
    customer_acquisition_cost_amount,
    clv_to_cac_ratio
from marts.acquisition_channel_value
where customers_acquired_count > 0
order by average_historical_clv_amount desc;

-- name: churn_tiers
-- Scored customers per churn-risk tier, their last-365-day revenue, and how many are on
-- the win-back list (medium or high risk and opted in to marketing: they get a message).
select
    risk_tier,
    count(*) as customer_count,
    sum(revenue_365d_amount) as revenue_365d_amount,
    count(*) filter (where risk_tier <> 'low' and is_marketing_opt_in) as win_back_count,
    max(scored_at_cutoff_date) as scored_at_cutoff_date
from ml.customer_churn_scores
group by risk_tier
order by case risk_tier when 'high' then 1 when 'medium' then 2 else 3 end;

-- name: win_back_actions
-- Suggested actions for the customers at medium or high risk.
select
    suggested_action,
    count(*) as customer_count,
    sum(revenue_365d_amount) as revenue_365d_amount
from ml.customer_churn_scores
where risk_tier <> 'low'
group by suggested_action
order by customer_count desc;
