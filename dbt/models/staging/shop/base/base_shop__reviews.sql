with source as (
    select *, {{ exact_duplicate_rank('reviews') }} as exact_duplicate_rank
    from {{ source('shop', 'reviews') }}
),

typed as (
    select
        {{ text('review_id') }} as review_id,
        {{ text('order_id') }} as order_id,
        {{ text('product_id') }} as product_id,
        {{ text('customer_id') }} as customer_id,
        {{ to_integer('rating') }} as rating,
        {{ text('rating') }} as rating_text,
        {{ text('review_text') }} as review_text,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ text('created_at') }} as created_at_text,
        exact_duplicate_rank,
        _source_file,
        _source_line,
        _parse_error,
        _loaded_at
    from source
),

checked as (
    select
        *,
        {{ contract_rejection_reason('reviews', rules=[
            ('rating < 1 or rating > 5', 'rating_out_of_range')
        ]) }} as rejection_reason
    from typed
),

final as (
    select
        *,
        {{ latest_version_rank(['review_id']) }} as version_rank,
        {{ untrusted_latest_version(['review_id']) }} as has_untrusted_latest_version
    from checked
)

select * from final
