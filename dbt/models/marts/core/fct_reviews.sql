{#- One row per review. Unknown customers and products join to the unknown member '-1'. -#}
with reviews as (
    select * from {{ ref('stg_shop__reviews') }}
),

customers as (
    {#- dim_customers: the shop's customers and the erased ones' anonymous members. -#}
    select customer_id from {{ ref('dim_customers') }} where not is_unknown_member
),

products as (
    select product_id from {{ ref('stg_shop__products') }}
),

final as (
    select
        reviews.review_id,
        reviews.order_id,
        coalesce(products.product_id, {{ unknown_key() }}) as product_id,
        coalesce(customers.customer_id, {{ unknown_key() }}) as customer_id,
        reviews.rating,
        reviews.rating <= 2 as is_negative,
        reviews.review_text,
        reviews.created_at,
        cast(reviews.created_at as date) as review_date
    from reviews
    left join customers on reviews.customer_id = customers.customer_id
    left join products on reviews.product_id = products.product_id
)

select * from final
