{#- One row per spend date, exported channel and campaign (campaign may be empty), in base
    currency. Channels unknown to the channel dimension join to '-1'. -#}
with spend as (
    select * from {{ ref('stg_shop__ad_spend') }}
),

channels as (
    select channel_id from {{ ref('stg_shop__channels') }}
),

final as (
    select
        spend.spend_date,
        coalesce(channels.channel_id, {{ unknown_key() }}) as channel_id,
        spend.channel_id as exported_channel_id,
        spend.campaign_id,
        coalesce(spend.impressions, 0) as impressions,
        coalesce(spend.clicks, 0) as clicks,
        spend.spend_base_amount as spend_amount
    from spend
    left join channels on spend.channel_id = channels.channel_id
)

{{ select_bi_typed('final', {
    'spend_amount': type_money(),
}) }}
