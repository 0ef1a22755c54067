{#- One row per customer with a counted order: the three churn early-warning signals of the
    domain (purchase frequency falling, engagement falling, ratings worsening), each measured
    against the customer's own history, plus their rating distribution. Business question:
    "who is drifting away before they are gone?" The recent window is the last
    early_warning_recent_days up to the as-of date (the data's last order date); the baseline
    is the early_warning_baseline_days before it, cut to the days the customer was known
    (since their first order). Rates are per 30 days so windows of any length compare. A
    signal fires when the recent rate is under half the baseline rate (frequency, sessions)
    or the recent average rating is at least one star below the baseline's. -#}
{%- set recent = var('early_warning_recent_days') -%}
{%- set baseline = var('early_warning_baseline_days') -%}
with customers as (
    select customer_id, first_order_date, as_of_date
    from {{ ref('customers') }}
    where order_count > 0
),

bounds as (
    select
        customer_id,
        as_of_date,
        {{ dbt.dateadd('day', 1 - recent, 'as_of_date') }} as recent_start,
        {{ dbt.dateadd('day', 1 - recent - baseline, 'as_of_date') }} as baseline_start,
        first_order_date
    from customers
),

windows as (
    select
        bounds.*,
        {#- Days of baseline the customer was known in (0 if acquired inside the recent window). -#}
        case
            when first_order_date >= recent_start then 0
            when first_order_date > baseline_start
                then {{ dbt.datediff('first_order_date', 'recent_start', 'day') }}
            else {{ baseline }}
        end as baseline_days
    from bounds
),

activity as (
    select customer_id, order_date as activity_date, 1 as is_order
    from {{ ref('fct_orders') }}
    where is_counted and not has_unknown_customer
    union all
    select customer_id, session_date as activity_date, 0 as is_order
    from {{ ref('int_sessions') }}
    where customer_id is not null
),

reviews as (
    select customer_id, review_date as activity_date, rating
    from {{ ref('fct_reviews') }}
),

activity_counts as (
    {#- Orders and sessions per window; the baseline counts from the first order, like
        baseline_days (only sessions can precede it). -#}
    select
        windows.customer_id,
        {%- for kind, flag in [('orders', 1), ('sessions', 0)] %}
        sum(case when activity.is_order = {{ flag }}
                  and activity.activity_date >= windows.recent_start then 1 else 0 end)
            as recent_{{ kind }},
        sum(case when activity.is_order = {{ flag }}
                  and activity.activity_date < windows.recent_start
                  and activity.activity_date >= windows.baseline_start
                  and activity.activity_date >= windows.first_order_date then 1 else 0 end)
            as baseline_{{ kind }}{{ "," if not loop.last }}
        {%- endfor %}
    from windows
    inner join activity
        on windows.customer_id = activity.customer_id
        and activity.activity_date <= windows.as_of_date
    group by windows.customer_id
),

rating_stats as (
    select
        windows.customer_id,
        count(*) as review_count,
        avg(cast(reviews.rating as double)) as average_rating,
        {{ rating_distribution('reviews.rating') }},
        avg(case when reviews.activity_date >= windows.recent_start
                 then cast(reviews.rating as double) end) as recent_average_rating,
        avg(case when reviews.activity_date < windows.recent_start
                  and reviews.activity_date >= windows.baseline_start
                 then cast(reviews.rating as double) end) as baseline_average_rating
    from windows
    inner join reviews
        on windows.customer_id = reviews.customer_id
        and reviews.activity_date <= windows.as_of_date
    group by windows.customer_id
),

rates as (
    select
        windows.customer_id,
        windows.as_of_date,
        windows.baseline_days,
        coalesce(activity_counts.recent_orders, 0) * 30.0 / {{ recent }} as recent_orders_per_30_days,
        {{ safe_divide('coalesce(activity_counts.baseline_orders, 0) * 30.0', 'windows.baseline_days') }}
            as baseline_orders_per_30_days,
        coalesce(activity_counts.recent_sessions, 0) * 30.0 / {{ recent }} as recent_sessions_per_30_days,
        {{ safe_divide('coalesce(activity_counts.baseline_sessions, 0) * 30.0', 'windows.baseline_days') }}
            as baseline_sessions_per_30_days,
        coalesce(rating_stats.review_count, 0) as review_count,
        rating_stats.average_rating,
        coalesce(rating_stats.rating_1_count, 0) as rating_1_count,
        coalesce(rating_stats.rating_2_count, 0) as rating_2_count,
        coalesce(rating_stats.rating_3_count, 0) as rating_3_count,
        coalesce(rating_stats.rating_4_count, 0) as rating_4_count,
        coalesce(rating_stats.rating_5_count, 0) as rating_5_count,
        rating_stats.recent_average_rating,
        rating_stats.baseline_average_rating
    from windows
    left join activity_counts on windows.customer_id = activity_counts.customer_id
    left join rating_stats on windows.customer_id = rating_stats.customer_id
),

flagged as (
    select
        rates.*,
        {{ safe_divide('recent_orders_per_30_days', 'baseline_orders_per_30_days') }}
            as order_frequency_trend,
        {{ safe_divide('recent_sessions_per_30_days', 'baseline_sessions_per_30_days') }}
            as session_trend,
        recent_average_rating - baseline_average_rating as rating_trend,
        coalesce(baseline_orders_per_30_days > 0
                 and recent_orders_per_30_days < 0.5 * baseline_orders_per_30_days, false)
            as is_purchase_frequency_falling,
        coalesce(baseline_sessions_per_30_days > 0
                 and recent_sessions_per_30_days < 0.5 * baseline_sessions_per_30_days, false)
            as is_engagement_falling,
        coalesce(recent_average_rating <= baseline_average_rating - 1, false)
            as is_rating_worsening
    from rates
),

final as (
    select
        flagged.*,
        (case when is_purchase_frequency_falling then 1 else 0 end)
        + (case when is_engagement_falling then 1 else 0 end)
        + (case when is_rating_worsening then 1 else 0 end) as warning_signal_count
    from flagged
)

{{ select_bi_typed('final', {
    'rating_1_count': type_count(),
    'rating_2_count': type_count(),
    'rating_3_count': type_count(),
    'rating_4_count': type_count(),
    'rating_5_count': type_count(),
}) }}
