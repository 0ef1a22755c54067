{#- One row per channel_id: valid rows of the channels export, exact duplicates dropped, latest version kept. -#}
with current_rows as (
    {{ staged_current('base_shop__channels') }}
),

final as (
    select
        channel_id,
        channel_name,
        channel_type,
        coalesce(
            is_paid, channel_type in ('paid_search', 'paid_social', 'display', 'affiliate')
        ) as is_paid
    from current_rows
)

select * from final
