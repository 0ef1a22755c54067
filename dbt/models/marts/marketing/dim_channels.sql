{#- One row per marketing channel, plus the unknown member (channel_id '-1') for orders,
    sessions and spend whose channel is missing or not in the channel export. -#}
with channels as (
    select * from {{ ref('stg_shop__channels') }}
),

final as (
    select channel_id, channel_name, channel_type, is_paid, false as is_unknown_member
    from channels
    union all
    select {{ unknown_key() }}, 'Unknown', 'unknown', false, true
)

select * from final
