{#- One row per known product in the latest inventory snapshot: stock on hand and on order
    (all warehouses), average daily demand over the last 28 days (metrics.md demand; over the
    days on sale for a product launched within them), days of cover, stock-outs and overstock, and annual turnover. Business question: "what will run
    out, what is sitting idle, and how fast does stock turn?"
    - days_of_cover: on hand / average daily demand (null without demand);
    - stock-out share: of the last 365 days' (snapshot, warehouse) rows, the share at zero;
    - overstock: more than overstock_cover_days of cover, or stock without demand;
    - turnover: cost of units sold in the last 365 days / average stock value over that
      year's snapshots.
    The as-of date is the latest snapshot date. -#}
with snapshots as (
    select *
    from {{ ref('fct_inventory_snapshots') }}
    where product_id <> {{ unknown_key() }}
),

as_of as (
    select max(snapshot_date) as as_of_date from snapshots
),

latest as (
    select
        snapshots.product_id,
        sum(snapshots.on_hand_qty) as on_hand_qty,
        sum(snapshots.on_order_qty) as on_order_qty,
        sum(snapshots.stock_value_amount) as stock_value_amount
    from snapshots
    inner join as_of on snapshots.snapshot_date = as_of.as_of_date
    group by snapshots.product_id
),

year_of_snapshots as (
    select
        snapshots.product_id,
        count(*) as snapshot_row_count,
        sum(case when snapshots.is_stocked_out then 1 else 0 end) as stocked_out_row_count,
        count(distinct snapshots.snapshot_date) as snapshot_date_count,
        sum(snapshots.stock_value_amount) as total_stock_value_amount
    from snapshots
    cross join as_of
    where snapshots.snapshot_date > {{ dbt.dateadd('day', -365, 'as_of.as_of_date') }}
    group by snapshots.product_id
),

demand as (
    select
        items.product_id,
        sum(case when items.order_date > {{ dbt.dateadd('day', -28, 'as_of.as_of_date') }}
                 then items.quantity else 0 end) as units_last_28_days,
        sum(items.quantity) as units_last_365_days
    from {{ ref('fct_order_items') }} as items
    cross join as_of
    where items.is_counted
        and items.order_date <= as_of.as_of_date
        and items.order_date > {{ dbt.dateadd('day', -365, 'as_of.as_of_date') }}
    group by items.product_id
),

measured as (
    select
        latest.product_id,
        products.product_name,
        products.category,
        latest.on_hand_qty,
        latest.on_order_qty,
        latest.stock_value_amount,
        {#- A product launched within the 28 days is averaged over its days on sale. -#}
        coalesce(demand.units_last_28_days, 0) / case
            when cast(products.launched_at as date) > {{ dbt.dateadd('day', -28, 'as_of.as_of_date') }}
                then {{ dbt.datediff('cast(products.launched_at as date)', 'as_of.as_of_date', 'day') }} + 1.0
            else 28.0
        end as average_daily_demand_units,
        coalesce(demand.units_last_365_days, 0) as units_sold_last_365_days,
        coalesce(demand.units_last_365_days, 0) * products.unit_cost_base_amount
            as cost_of_goods_sold_last_365_days_amount,
        {{ safe_divide('year_of_snapshots.total_stock_value_amount', 'year_of_snapshots.snapshot_date_count') }}
            as average_stock_value_amount,
        {{ safe_divide('year_of_snapshots.stocked_out_row_count', 'year_of_snapshots.snapshot_row_count') }}
            as stock_out_share,
        latest.on_hand_qty <= 0 as is_stocked_out,
        as_of.as_of_date
    from latest
    cross join as_of
    inner join {{ ref('dim_products') }} as products on latest.product_id = products.product_id
    left join year_of_snapshots on latest.product_id = year_of_snapshots.product_id
    left join demand on latest.product_id = demand.product_id
),

final as (
    select
        measured.product_id,
        measured.product_name,
        measured.category,
        measured.on_hand_qty,
        measured.on_order_qty,
        measured.stock_value_amount,
        measured.average_daily_demand_units,
        {{ safe_divide('measured.on_hand_qty', 'measured.average_daily_demand_units') }} as days_of_cover,
        measured.is_stocked_out,
        measured.stock_out_share,
        coalesce(
            measured.on_hand_qty > {{ var('overstock_cover_days') }} * measured.average_daily_demand_units,
            false
        ) as is_overstocked,
        measured.units_sold_last_365_days,
        measured.cost_of_goods_sold_last_365_days_amount,
        measured.average_stock_value_amount,
        {{ safe_divide('measured.cost_of_goods_sold_last_365_days_amount', 'measured.average_stock_value_amount') }}
            as annual_turnover,
        case
            when measured.is_stocked_out then 'stocked_out'
            when measured.average_daily_demand_units > 0
                and measured.on_hand_qty < 14 * measured.average_daily_demand_units then 'low_cover'
            when measured.on_hand_qty > {{ var('overstock_cover_days') }} * measured.average_daily_demand_units
                then 'overstocked'
            else 'healthy'
        end as health_status,
        measured.as_of_date
    from measured
)

{{ select_bi_typed('final', {
    'on_hand_qty': type_count(),
    'on_order_qty': type_count(),
    'stock_value_amount': type_money(),
    'units_sold_last_365_days': type_count(),
    'cost_of_goods_sold_last_365_days_amount': type_money(),
}) }}
