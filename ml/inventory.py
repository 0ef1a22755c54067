"""Inventory early warning: safety stock, reorder point and stock-out dates from the forecast.

Per product, with day d = 1..28 after the forecast origin, expected units m_d (`mean_units`)
and the forecast's daily standard deviation s_d (`sd_units`, the negative binomial's of the
demand forecast; a forecast without it gives its spread under a normal approximation,
s_d = (p90_d - p10_d) / (2 * 1.2816)):
- lead-time demand  D_L = sum of m_d over the lead time's days d <= L;
- safety stock      SS = z * sqrt(sum of s_d^2 over d <= L), z = the service level's normal
                    quantile (0.95 -> 1.645); days are taken as independent;
- reorder point     ROP = D_L + SS;
- stock position    on hand + on order, from each product's latest snapshot on or before the
                    origin (all warehouses), less the units sold after the snapshot day up to
                    the origin (on hand never below 0); on order is assumed to arrive within
                    the lead time;
- reorder           when the position is at or below ROP; the suggested quantity brings the
                    position up to the 28-day demand plus its safety stock,
                    ceil(M_28 + z * S_28 - position);
- expected stock-out date: the first day whose cumulative expected demand M_d exceeds the
  position; stock-out risk date: the first day where M_d + z * S_d does (a stock-out by
  then has at least a 1 - service level chance).
Alert levels: `stock_out_risk` (the expected stock-out date falls within the lead time: even a
reorder placed now arrives late), `reorder` (position at or below ROP: the chance of running
out before a new order arrives exceeds 1 - service level), `ok`; `no_stock_data` without a
snapshot.
"""

from __future__ import annotations

from statistics import NormalDist

import duckdb
import numpy as np
import pandas as pd

SPREAD_TO_SD = 2 * NormalDist().inv_cdf(0.9)  # p90 - p10 of a normal is 2.563 sd


def stock_positions(con: duckdb.DuckDBPyConnection, origin_date) -> pd.DataFrame:
    """Per product: the latest snapshot on or before the origin and the units sold after it."""
    return con.execute("""
        with snapshots as (
            select product_id, snapshot_date, sum(on_hand_qty) as on_hand_units,
                   sum(on_order_qty) as on_order_units
            from marts.fct_inventory_snapshots
            where snapshot_date <= $origin and product_id <> '-1'
            group by product_id, snapshot_date
            qualify snapshot_date = max(snapshot_date) over (partition by product_id)
        ),

        sold_since as (
            select items.product_id, sum(items.quantity) as units
            from marts.fct_order_items as items
            join snapshots using (product_id)
            where items.is_counted and items.order_date > snapshots.snapshot_date
              and items.order_date <= $origin
            group by items.product_id
        )

        select snapshots.product_id, snapshots.snapshot_date,
               snapshots.on_hand_units::double as on_hand_units,
               snapshots.on_order_units::double as on_order_units,
               coalesce(sold_since.units, 0)::double as sold_since_snapshot_units
        from snapshots
        left join sold_since using (product_id)
    """, {"origin": origin_date}).df()


def reorder_alerts(forecast: pd.DataFrame, stock: pd.DataFrame, lead_time_days: int = 7,
                   service_level: float = 0.95) -> pd.DataFrame:
    """One row per forecast product. `forecast` has product_id, forecast_date, horizon_day,
    p10_units, p90_units, mean_units and optionally sd_units; `stock` comes from
    stock_positions."""
    if not 1 <= lead_time_days <= forecast["horizon_day"].max():
        raise ValueError(f"lead time {lead_time_days} days is outside the forecast horizon "
                         f"of {forecast['horizon_day'].max()} days")
    z = NormalDist().inv_cdf(service_level)
    frame = forecast.sort_values(["product_id", "horizon_day"]).copy()
    frame["variance"] = (frame["sd_units"] ** 2 if "sd_units" in frame else
                         ((frame["p90_units"] - frame["p10_units"]) / SPREAD_TO_SD) ** 2)
    grouped = frame.groupby("product_id", sort=True)
    frame["cum_mean"] = grouped["mean_units"].cumsum()
    frame["cum_sd"] = np.sqrt(grouped["variance"].cumsum())
    lead = frame[frame["horizon_day"] <= lead_time_days].groupby("product_id")
    last = frame.groupby("product_id").tail(1).set_index("product_id")
    out = pd.DataFrame({
        "forecast_origin_date": last["forecast_date"]
        - pd.to_timedelta(last["horizon_day"], unit="D"),
        "lead_time_days": lead_time_days,
        "service_level": service_level,
        "lead_time_demand_units": lead["mean_units"].sum(),
        "safety_stock_units": z * np.sqrt(lead["variance"].sum()),
        "horizon_demand_units": last["cum_mean"],
    })
    out["reorder_point_units"] = out["lead_time_demand_units"] + out["safety_stock_units"]
    stock = stock.set_index("product_id").reindex(out.index)
    out["snapshot_date"] = stock["snapshot_date"]
    out["on_hand_units"] = (stock["on_hand_units"] - stock["sold_since_snapshot_units"]).clip(
        lower=0)
    out["on_order_units"] = stock["on_order_units"]
    out["stock_position_units"] = out["on_hand_units"] + out["on_order_units"]
    frame["position"] = frame["product_id"].map(out["stock_position_units"])
    out["expected_stockout_date"] = _first_date(frame, frame["cum_mean"] > frame["position"])
    out["stockout_risk_date"] = _first_date(
        frame, frame["cum_mean"] + z * frame["cum_sd"] > frame["position"])
    out["needs_reorder"] = out["stock_position_units"] <= out["reorder_point_units"]
    order_up_to = out["horizon_demand_units"] + z * last["cum_sd"]
    out["suggested_order_units"] = np.where(
        out["needs_reorder"],
        np.ceil((order_up_to - out["stock_position_units"]).clip(lower=0) - 1e-9), 0)
    expected_day = (out["expected_stockout_date"] - out["forecast_origin_date"]).dt.days
    out["alert_level"] = np.select(
        [out["stock_position_units"].isna(), expected_day <= lead_time_days,
         out["needs_reorder"]],
        ["no_stock_data", "stock_out_risk", "reorder"], "ok")
    out["suggested_order_units"] = out["suggested_order_units"].where(
        out["stock_position_units"].notna())
    return out.reset_index()


def _first_date(frame: pd.DataFrame, hit: pd.Series) -> pd.Series:
    """Per product, the first forecast date where `hit` holds (NaT if none)."""
    dates = frame["forecast_date"].where(hit)
    return dates.groupby(frame["product_id"]).min()


def product_labels(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Name, category and active flag of every known product, for people reading alerts."""
    return con.execute("""
        select product_id, product_name, category, is_active
        from marts.dim_products
        where not is_unknown_member
    """).df()
