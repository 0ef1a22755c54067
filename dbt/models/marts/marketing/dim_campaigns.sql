{#- One row per campaign, plus the unknown member (campaign_id '-1'). The evaluation window
    ends at ends_at, or uplift_default_window_days after the start when it has no end. -#}
with campaigns as (
    select * from {{ ref('stg_shop__campaigns') }}
),

channels as (
    select channel_id from {{ ref('stg_shop__channels') }}
),

known as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        coalesce(channels.channel_id, {{ unknown_key() }}) as channel_id,
        campaigns.campaign_type,
        campaigns.starts_at,
        campaigns.ends_at,
        cast(campaigns.starts_at as date) as start_date,
        cast(coalesce(
            campaigns.ends_at,
            {{ dbt.dateadd('day', var('uplift_default_window_days'), 'campaigns.starts_at') }}
        ) as date) as end_date,
        cast(campaigns.budget_base_amount as {{ type_money() }}) as budget_amount,
        campaigns.target_segment,
        false as is_unknown_member
    from campaigns
    left join channels on campaigns.channel_id = channels.channel_id
),

unknown_member as (
    select
        {{ unknown_key() }} as campaign_id,
        'Unknown campaign' as campaign_name,
        {{ unknown_key() }} as channel_id,
        'unknown' as campaign_type,
        cast(null as {{ dbt.type_timestamp() }}) as starts_at,
        cast(null as {{ dbt.type_timestamp() }}) as ends_at,
        cast(null as date) as start_date,
        cast(null as date) as end_date,
        cast(null as {{ type_money() }}) as budget_amount,
        cast(null as {{ dbt.type_string() }}) as target_segment,
        true as is_unknown_member
)

select * from known
union all
select * from unknown_member
