-- Demand and stock: the forecast against recent actuals for the top products, reorder
-- alerts (ml), and slow movers and stock-out risk (marts.inventory_health).
-- Demand = units of counted orders per product per order date (metrics.md).

-- name: forecast_top_products
-- For the $product_count products with the most units in the $period_days days before the
-- forecast origin: daily actual units over the last $history_days days (zero-filled) and
-- the forecast's p10, p50 and p90.
with origin as (
    select max(forecast_origin_date) as origin_date from ml.fct_demand_forecast
),

recent as (
    select items.product_id, sum(items.quantity) as unit_count
    from marts.fct_order_items as items
    cross join origin
    where items.is_counted
        and items.order_date <= origin.origin_date
        and items.order_date > origin.origin_date - to_days(cast($period_days as integer))
        and items.product_id in (select product_id from ml.fct_demand_forecast)
    group by items.product_id
    order by unit_count desc, items.product_id
    limit $product_count
),

days as (
    select cast(day as date) as date_day
    from origin,
        range(origin.origin_date - to_days(cast($history_days as integer) - 1),
              origin.origin_date + interval 1 day, interval 1 day) as days (day)
),

actuals as (
    select recent.product_id, days.date_day, coalesce(sum(items.quantity), 0) as unit_count
    from recent
    cross join days
    left join marts.fct_order_items as items
        on items.product_id = recent.product_id
        and items.order_date = days.date_day
        and items.is_counted
    group by recent.product_id, days.date_day
),

forecast as (
    select forecast.product_id, forecast.forecast_date, forecast.p10_units,
        forecast.p50_units, forecast.p90_units
    from ml.fct_demand_forecast as forecast
    inner join recent on forecast.product_id = recent.product_id
)

select
    recent.product_id,
    coalesce(products.product_name, recent.product_id) as product_name,
    recent.unit_count as recent_unit_count,
    actuals.date_day,
    actuals.unit_count as actual_units,
    null as p10_units,
    null as p50_units,
    null as p90_units
from actuals
inner join recent on actuals.product_id = recent.product_id
left join marts.dim_products as products on recent.product_id = products.product_id
union all
select
    recent.product_id,
    coalesce(products.product_name, recent.product_id),
    recent.unit_count,
    forecast.forecast_date,
    null,
    forecast.p10_units,
    forecast.p50_units,
    forecast.p90_units
from forecast
inner join recent on forecast.product_id = recent.product_id
left join marts.dim_products as products on recent.product_id = products.product_id
order by recent_unit_count desc, product_id, date_day;

-- name: alert_levels
-- Products per reorder alert level at the forecast origin.
select alert_level, count(*) as product_count
from ml.inventory_reorder_alerts
group by alert_level
order by case alert_level when 'stock_out_risk' then 1 when 'reorder' then 2
    when 'ok' then 3 else 4 end;

-- name: urgent_reorders
-- The products to reorder first: stock-out risk, then reorder, soonest stock-out first.
select
    product_name,
    category,
    alert_level,
    stock_position_units,
    reorder_point_units,
    stockout_risk_date,
    suggested_order_units
from ml.inventory_reorder_alerts
where alert_level in ('stock_out_risk', 'reorder')
order by case alert_level when 'stock_out_risk' then 1 else 2 end,
    stockout_risk_date nulls last, product_name
limit $row_limit;

-- name: stock_health
-- Products and stock value per health status (marts.inventory_health).
select
    health_status,
    count(*) as product_count,
    sum(stock_value_amount) as stock_value_amount
from marts.inventory_health
group by health_status
order by case health_status when 'stocked_out' then 1 when 'low_cover' then 2
    when 'overstocked' then 3 else 4 end;

-- name: slow_movers
-- The slowest-turning stocked products: lowest annual turnover, with days of cover.
select
    product_name,
    category,
    on_hand_qty,
    stock_value_amount,
    days_of_cover,
    annual_turnover,
    health_status
from marts.inventory_health
where on_hand_qty > 0
order by annual_turnover nulls first, stock_value_amount desc, product_name
limit $row_limit;
