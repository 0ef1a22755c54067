{#- One row per campaign_id, customer_id: valid rows of the campaign_members export, exact duplicates dropped, latest version kept. -#}
with current_rows as (
    {{ staged_current('base_shop__campaign_members') }}
),

final as (
    select
        campaign_id,
        customer_id,
        assigned_at,
        test_group,
        delivered_at,
        opened_at,
        clicked_at
    from current_rows
)

select * from final
