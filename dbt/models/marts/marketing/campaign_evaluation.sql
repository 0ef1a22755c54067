{#- One row per campaign: cost and return (ROI and ROAS on credited revenue, ROI per attribution model),
    a before/after comparison, and for campaigns with a control group the A/B result.
    Business question: "did the campaign pay, and did it cause the sales it claims?"
    - Before/after: the audience's counted orders and net revenue in the campaign window
      (start_date..end_date) against the same number of days just before it. The audience is
      the campaign's members when it has any, else every customer.
    - Uplift (metrics.md): treatment minus control conversion rate with Newcombe's hybrid
      score interval (from the two Wilson intervals; z = uplift_confidence_z), which keeps
      its coverage with small control groups and rates near 0 or 1 where the plain Wald
      interval does not, and the two-proportion z-test's two-sided p-value (pooled standard
      error). Revenue uplift is the
      difference in converted revenue per member, with its own interval (Welch standard error).
      Incremental conversions and revenue scale the uplift to the treatment group. -#}
{%- set z = var('uplift_confidence_z') -%}
{%- set models = attribution_models() -%}
with campaigns as (
    select * from {{ ref('campaigns') }}
),

attributed as (
    select
        campaign_id,
        {%- for model in models %}
        sum({{ model }}_revenue_amount) as attributed_revenue_{{ model }}_amount{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('fct_order_attribution') }}
    where campaign_id is not null
    group by campaign_id
),

members as (
    select * from {{ ref('fct_campaign_members') }}
),

audience as (
    select distinct campaign_id, customer_id from members
),

orders as (
    select customer_id, order_date, net_revenue_amount
    from {{ ref('fct_orders') }}
    where is_counted
),

windows as (
    select
        campaign_id,
        start_date,
        end_date,
        {{ dbt.datediff('start_date', 'end_date', 'day') }} + 1 as window_days,
        {{ dbt.dateadd('day', '-1 * (' ~ dbt.datediff('start_date', 'end_date', 'day') ~ ' + 1)', 'start_date') }}
            as before_start_date,
        case when member_count > 0 then 'members' else 'all_customers' end as audience
    from campaigns
),

audience_orders as (
    select windows.campaign_id, orders.order_date, orders.net_revenue_amount
    from windows
    inner join orders
        on orders.order_date >= windows.before_start_date
        and orders.order_date <= windows.end_date
    where windows.audience = 'all_customers'
    union all
    select windows.campaign_id, orders.order_date, orders.net_revenue_amount
    from windows
    inner join audience on windows.campaign_id = audience.campaign_id
    inner join orders
        on audience.customer_id = orders.customer_id
        and orders.order_date >= windows.before_start_date
        and orders.order_date <= windows.end_date
    where windows.audience = 'members'
),

before_after as (
    select
        audience_orders.campaign_id,
        sum(case when audience_orders.order_date < windows.start_date then 1 else 0 end) as orders_before_count,
        sum(case when audience_orders.order_date >= windows.start_date then 1 else 0 end) as orders_during_count,
        sum(case when audience_orders.order_date < windows.start_date
                 then audience_orders.net_revenue_amount else 0 end) as net_revenue_before_amount,
        sum(case when audience_orders.order_date >= windows.start_date
                 then audience_orders.net_revenue_amount else 0 end) as net_revenue_during_amount
    from audience_orders
    inner join windows on audience_orders.campaign_id = windows.campaign_id
    group by audience_orders.campaign_id
),

member_revenue as (
    select
        campaign_id,
        avg(case when test_group = 'treatment' then converted_revenue_amount end) as revenue_t,
        avg(case when test_group = 'control' then converted_revenue_amount end) as revenue_c,
        {{ exact_var_samp("case when test_group = 'treatment' then converted_revenue_amount end") }}
            as variance_t,
        {{ exact_var_samp("case when test_group = 'control' then converted_revenue_amount end") }}
            as variance_c
    from members
    group by campaign_id
),

rates as (
    {#- Group sizes and conversions as the campaigns mart counts them. -#}
    select
        campaigns.campaign_id,
        campaigns.treatment_count as n_t,
        campaigns.control_count as n_c,
        campaigns.treatment_conversion_rate as p_t,
        campaigns.control_conversion_rate as p_c,
        cast(campaigns.treatment_conversion_count + campaigns.control_conversion_count as double)
            / (campaigns.treatment_count + campaigns.control_count) as p_pooled,
        member_revenue.revenue_t,
        member_revenue.revenue_c,
        member_revenue.variance_t,
        member_revenue.variance_c
    from campaigns
    inner join member_revenue on campaigns.campaign_id = member_revenue.campaign_id
    where campaigns.treatment_count > 0 and campaigns.control_count > 0
),

wilson as (
    select
        rates.*,
        {{ wilson_bound('p_t', 'n_t', z, '-') }} as lower_t,
        {{ wilson_bound('p_t', 'n_t', z, '+') }} as upper_t,
        {{ wilson_bound('p_c', 'n_c', z, '-') }} as lower_c,
        {{ wilson_bound('p_c', 'n_c', z, '+') }} as upper_c
    from rates
),

uplift as (
    select
        campaign_id,
        p_t - p_c as conversion_uplift,
        {#- Newcombe's hybrid score interval from the two Wilson intervals. -#}
        p_t - p_c - sqrt((p_t - lower_t) * (p_t - lower_t) + (upper_c - p_c) * (upper_c - p_c))
            as conversion_uplift_lower,
        p_t - p_c + sqrt((upper_t - p_t) * (upper_t - p_t) + (p_c - lower_c) * (p_c - lower_c))
            as conversion_uplift_upper,
        {{ safe_divide('p_t - p_c', 'sqrt(p_pooled * (1 - p_pooled) * (1.0 / n_t + 1.0 / n_c))') }}
            as z_statistic,
        revenue_t - revenue_c as revenue_uplift_per_member_amount,
        sqrt(coalesce(variance_t, 0) / n_t + coalesce(variance_c, 0) / n_c) as revenue_uplift_standard_error,
        n_t
    from wilson
),

final as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_type,
        campaigns.channel_id,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.target_segment,
        campaigns.spend_amount,
        campaigns.net_revenue_amount,
        campaigns.return_on_ad_spend,
        campaigns.return_on_investment,
        {%- for model in models %}
        coalesce(attributed.attributed_revenue_{{ model }}_amount, 0) as attributed_revenue_{{ model }}_amount,
        {{ safe_divide('attributed.attributed_revenue_' ~ model ~ '_amount - campaigns.spend_amount', 'campaigns.spend_amount') }}
            as return_on_investment_{{ model }},
        {%- endfor %}
        windows.audience,
        windows.window_days,
        coalesce(before_after.orders_before_count, 0) as orders_before_count,
        coalesce(before_after.orders_during_count, 0) as orders_during_count,
        coalesce(before_after.net_revenue_before_amount, 0) as net_revenue_before_amount,
        coalesce(before_after.net_revenue_during_amount, 0) as net_revenue_during_amount,
        {{ safe_divide('coalesce(before_after.net_revenue_during_amount, 0) - before_after.net_revenue_before_amount',
                       'before_after.net_revenue_before_amount') }} as net_revenue_change_rate,
        campaigns.treatment_count,
        campaigns.control_count,
        campaigns.treatment_conversion_rate,
        campaigns.control_conversion_rate,
        uplift.conversion_uplift,
        uplift.conversion_uplift_lower,
        uplift.conversion_uplift_upper,
        uplift.z_statistic,
        {{ two_sided_p_value('uplift.z_statistic') }} as p_value,
        uplift.conversion_uplift * uplift.n_t as incremental_conversion_count,
        uplift.revenue_uplift_per_member_amount,
        uplift.revenue_uplift_per_member_amount - {{ z }} * uplift.revenue_uplift_standard_error
            as revenue_uplift_per_member_lower_amount,
        uplift.revenue_uplift_per_member_amount + {{ z }} * uplift.revenue_uplift_standard_error
            as revenue_uplift_per_member_upper_amount,
        uplift.revenue_uplift_per_member_amount * uplift.n_t as incremental_revenue_amount
    from campaigns
    inner join windows on campaigns.campaign_id = windows.campaign_id
    left join attributed on campaigns.campaign_id = attributed.campaign_id
    left join before_after on campaigns.campaign_id = before_after.campaign_id
    left join uplift on campaigns.campaign_id = uplift.campaign_id
)

{{ select_bi_typed('final', {
    'spend_amount': type_money(),
    'net_revenue_amount': type_money(),
    'attributed_revenue_first_touch_amount': type_money(),
    'attributed_revenue_last_touch_amount': type_money(),
    'attributed_revenue_linear_amount': type_attributed_total(),
    'attributed_revenue_time_decay_amount': type_attributed_total(),
    'attributed_revenue_position_based_amount': type_attributed_total(),
    'orders_before_count': type_count(),
    'orders_during_count': type_count(),
    'net_revenue_before_amount': type_money(),
    'net_revenue_during_amount': type_money(),
    'treatment_count': type_count(),
    'control_count': type_count(),
}) }}
