{#- One row per product with reviews: its rating distribution, share of negative reviews,
    and the trend of its average rating (the last early_warning_recent_days against the
    early_warning_baseline_days before them, up to the data's last review date). Business
    question: "which products disappoint, and which are getting worse?" -#}
{%- set recent = var('early_warning_recent_days') -%}
{%- set baseline = var('early_warning_baseline_days') -%}
with reviews as (
    select product_id, review_date, rating, is_negative
    from {{ ref('fct_reviews') }}
    where product_id is not null and product_id <> {{ unknown_key() }}
),

as_of as (
    select
        max(review_date) as as_of_date,
        {{ dbt.dateadd('day', 1 - recent, 'max(review_date)') }} as recent_start,
        {{ dbt.dateadd('day', 1 - recent - baseline, 'max(review_date)') }} as baseline_start
    from reviews
),

by_product as (
    select
        reviews.product_id,
        count(*) as review_count,
        avg(cast(reviews.rating as double)) as average_rating,
        {{ rating_distribution('reviews.rating') }},
        sum(case when reviews.is_negative then 1 else 0 end) as negative_review_count,
        avg(case when reviews.review_date >= as_of.recent_start
                 then cast(reviews.rating as double) end) as recent_average_rating,
        avg(case when reviews.review_date < as_of.recent_start
                  and reviews.review_date >= as_of.baseline_start
                 then cast(reviews.rating as double) end) as baseline_average_rating,
        max(as_of.as_of_date) as as_of_date
    from reviews
    cross join as_of
    group by reviews.product_id
),

final as (
    select
        by_product.product_id,
        products.product_name,
        products.category,
        by_product.review_count,
        by_product.average_rating,
        by_product.rating_1_count,
        by_product.rating_2_count,
        by_product.rating_3_count,
        by_product.rating_4_count,
        by_product.rating_5_count,
        {{ safe_divide('by_product.negative_review_count', 'by_product.review_count') }}
            as negative_review_share,
        by_product.recent_average_rating,
        by_product.baseline_average_rating,
        by_product.recent_average_rating - by_product.baseline_average_rating as rating_trend,
        by_product.as_of_date
    from by_product
    left join {{ ref('dim_products') }} as products on by_product.product_id = products.product_id
)

{{ select_bi_typed('final', {
    'rating_1_count': type_count(),
    'rating_2_count': type_count(),
    'rating_3_count': type_count(),
    'rating_4_count': type_count(),
    'rating_5_count': type_count(),
}) }}
