{#- One row per campaign_id: valid rows of the campaigns export, exact duplicates dropped, latest version kept. -#}
with current_rows as (
    {{ staged_current('base_shop__campaigns') }}
),

final as (
    select
        campaign_id,
        campaign_name,
        channel_id,
        campaign_type,
        starts_at,
        ends_at,
        budget,
        currency,
        budget * fx_rate_to_base as budget_base_amount,
        target_segment
    from current_rows
)

select * from final
