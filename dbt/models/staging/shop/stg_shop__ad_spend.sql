{#- One row per spend_date, channel_id, campaign_id: valid rows of the ad_spend export, exact duplicates dropped, latest version kept. -#}
with current_rows as (
    {{ staged_current('base_shop__ad_spend') }}
),

final as (
    select
        spend_date,
        channel_id,
        campaign_id,
        impressions,
        clicks,
        currency,
        spend,
        spend * fx_rate_to_base as spend_base_amount
    from current_rows
)

select * from final
