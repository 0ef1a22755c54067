"""The demand backtest read back from a warehouse and scored again, independently of
ml/demand_eval.py: the actuals from the marts, M5's product-level WRMSSE in plain pandas."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import query

# Method name in ml.demand_backtest_metrics -> its column in ml.demand_backtest (zero: None).
BASELINE_COLUMNS = {"zero": None, "seasonal_naive": "seasonal_naive_units",
                    "moving_average_28d": "moving_average_28d_units",
                    "croston_sba": "croston_sba_units", "tsb": "tsb_units"}


def read_backtest(warehouse: Path) -> pd.DataFrame:
    backtest = pd.DataFrame(query(warehouse, """
        select forecast_origin_date, product_id, forecast_date, actual_units, mean_units,
               p50_units, seasonal_naive_units, moving_average_28d_units, croston_sba_units,
               tsb_units
        from ml.demand_backtest"""), columns=["origin", "product", "day", "actual",
                                              "mean_units", "p50", "seasonal_naive_units",
                                              "moving_average_28d_units", "croston_sba_units",
                                              "tsb_units"])
    backtest["day"] = pd.to_datetime(backtest["day"])
    return backtest


def read_daily(warehouse: Path) -> pd.DataFrame:
    """Units and net revenue of counted orders per product and day (metrics.md's demand)."""
    daily = pd.DataFrame(query(warehouse, """
        select product_id, order_date, sum(quantity)::double,
               sum(gross_amount - discount_amount)::double
        from marts.fct_order_items where is_counted and product_id <> '-1' group by 1, 2"""),
        columns=["product", "day", "units", "net"])
    daily["day"] = pd.to_datetime(daily["day"])
    return daily


def actuals_from_marts(backtest: pd.DataFrame, daily: pd.DataFrame) -> list[float]:
    """Each backtest row's units sold, read from the marts (0 where nothing sold)."""
    units = dict(((p, d), u) for p, d, u in
                 zip(daily["product"], daily["day"], daily["units"], strict=True))
    return [units.get((p, d), 0) for p, d in zip(backtest["product"], backtest["day"],
                                                 strict=True)]


def product_wrmsse(backtest: pd.DataFrame, daily: pd.DataFrame,
                   columns: dict[str, str | None]) -> dict[str, float]:
    """M5's level-12 WRMSSE of each named forecast column (None: the zero forecast),
    recomputed from the backtest rows and the marts: per origin and product
    sqrt(mean squared error / mean squared day-to-day change since the first sale), weighted
    by net revenue of the 28 days up to the origin; origins weigh equally."""
    products = sorted(set(daily["product"]) | set(backtest["product"]))
    days = pd.date_range(daily["day"].min(), backtest["day"].max())
    units = daily.pivot_table(index="product", columns="day", values="units", fill_value=0)
    net = daily.pivot_table(index="product", columns="day", values="net", fill_value=0)
    units = units.reindex(index=products, columns=days, fill_value=0).to_numpy()
    net = net.reindex(index=products, columns=days, fill_value=0).to_numpy()
    row_of = {product: i for i, product in enumerate(products)}
    keys = ["origin", "product"]
    errors = backtest[keys].assign(**{
        name: (backtest["actual"] - (0.0 if column is None else backtest[column])) ** 2
        for name, column in columns.items()})
    mse = errors.groupby(keys)[list(columns)].mean()
    scales, weights = [], []
    for origin, product in mse.index:
        o = days.get_loc(pd.Timestamp(origin))
        history = units[row_of[product], :o + 1]
        sold = np.flatnonzero(history > 0)
        changes = np.diff(history[sold[0]:]) if len(sold) else np.array([])
        scales.append((changes ** 2).mean() if len(changes) else 0.0)
        weights.append(net[row_of[product], max(o - 27, 0):o + 1].sum())
    scored = mse.assign(scale=scales, weight=weights)
    scored = scored[(scored["scale"] > 0) & (scored["weight"] > 0)]
    result = {}
    for name in columns:
        rmsse = np.sqrt(scored[name] / scored["scale"])
        per_origin = [np.average(rmsse[rows], weights=scored.loc[rows, "weight"])
                      for rows in scored.groupby(level="origin").groups.values()]
        result[name] = float(np.mean(per_origin))
    return result


def backtest_metrics(warehouse: Path) -> pd.DataFrame:
    """ml.demand_backtest_metrics over all origins, as the asset wrote it."""
    return pd.DataFrame(query(warehouse, """
        select density_class, method, wrmsse, wrmsse_product, p10_p90_coverage,
               quantile_calibration_error
        from ml.demand_backtest_metrics where forecast_origin = 'all'"""),
        columns=["density_class", "method", "wrmsse", "wrmsse_product", "coverage",
                 "calibration_error"])
