"""Honest evaluation of the demand forecast, as in the M5 competition.

The point forecast that decisions use is the expected units (`lightgbm_mean`): sums over
days and products stay unbiased, which inventory alerts need. The p50 of an intermittent
series is 0 on most days, so a WAPE of the p50 rewards a forecast of nothing; it is kept
for comparison only.

Per backtest origin and product:
- RMSSE = sqrt(mean over the horizon of (actual - forecast)² / scale), where scale is the
  mean squared one-day change of the product's demand from its first sale up to the origin
  (the in-sample error of the naive forecast);
- its weight is the product's net revenue in the 28 days up to the origin; the product-level
  WRMSSE (`wrmsse_product`, M5's level 12) is the weighted mean of RMSSE (per origin; "all"
  over every product averages the origins with equal weight; a density class's "all" weighs
  each origin by the class's share of that origin's revenue).
M5 also scores the sums over the hierarchy; here the shop total and each category are
scored the same way (scale from the summed history, weight the summed revenue) and
`wrmsse` is the mean of the three levels (shop, category, product), as M5 averages its 12.
Noise dominates single products, so calendar effects show mostly at the upper levels.
A zero forecast has RMSSE sqrt(mean(y²) / scale), so it no longer wins by default.
Quantiles are scored by pinball loss, the share of actuals inside [p10, p90], and, since
that share cannot be 80% for a product that sells on fewer than a fifth of its days, by a
calibration error that holds for count data (`quantile_calibration_error`).

Metrics are given over all products and per density class at the origin (dense,
intermittent, lumpy, no_sales: intermittent.py). The baselines are scored in the same
backtest: zero, seasonal naive, 28-day mean, Croston-SBA and TSB; the best baseline is the
one with the lowest WRMSSE in the same group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .demand_data import DemandHistory
from .intermittent import CLASSES, density_classes
from .metrics import forecast_metrics, naive_scale, pinball_loss, wrmsse

POINT = "lightgbm_mean"
METHODS = {"lightgbm_mean": "mean_units", "lightgbm_p50": "p50_units", "zero": "zero_units",
           "seasonal_naive": "seasonal_naive_units",
           "moving_average_28d": "moving_average_28d_units",
           "croston_sba": "croston_sba_units", "tsb": "tsb_units"}
BASELINES = ("zero", "seasonal_naive", "moving_average_28d", "croston_sba", "tsb")
QUANTILES = {"p10_units": 0.1, "p50_units": 0.5, "p90_units": 0.9}


def series_table(history: DemandHistory, origin: int) -> pd.DataFrame:
    """Per product available at the origin: RMSSE scale, M5 weight (net revenue of the 28
    days up to the origin) and density class, from data up to the origin only."""
    available = history.products["available_from"].to_numpy()
    products = np.flatnonzero(available <= origin)
    first = max(origin - 27, 0)
    revenue = (history.gross[products, first:origin + 1].sum(axis=1)
               - history.discount[products, first:origin + 1].sum(axis=1))
    return pd.DataFrame({
        "product_id": history.products["product_id"].to_numpy()[products],
        "forecast_origin_date": pd.Timestamp(history.date_of(origin)),
        "scale": [naive_scale(history.units[p, available[p]:origin + 1]) for p in products],
        "weight": np.maximum(revenue, 0.0),
        "density_class": density_classes(history.units[products], available[products], origin),
    })


def per_series(predictions: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """RMSSE of every method per (origin, product), with the weight and class."""
    keys = ["forecast_origin_date", "product_id"]
    squared = pd.DataFrame({method: (predictions[column] - predictions["actual_units"]) ** 2
                            for method, column in METHODS.items()})
    mse = squared.groupby([predictions[k] for k in keys], sort=False).mean().reset_index()
    frame = mse.merge(series, on=keys, how="left", validate="one_to_one")
    for method in METHODS:
        frame[method] = np.sqrt(frame[method] / frame["scale"])
    return frame


def level_rmsse(predictions: pd.DataFrame, history: DemandHistory, by: list[str]
                ) -> pd.DataFrame:
    """RMSSE of every method for the sums of the predictions' products per origin and `by`
    (e.g. [] for the total, ["category"]), scaled by the summed history up to the origin;
    the weight is the summed net revenue of the 28 days up to the origin."""
    columns = ["actual_units", *METHODS.values()]
    index = pd.Index(history.products["product_id"])
    frame = predictions.assign(category=history.products["category"].to_numpy()[
        index.get_indexer(predictions["product_id"])])
    keys = ["forecast_origin_date", *by]
    daily = frame.groupby([*keys, "forecast_date"], sort=False)[columns].sum()
    squared = pd.DataFrame({m: (daily[c] - daily["actual_units"]) ** 2
                            for m, c in METHODS.items()})
    mse = squared.groupby(level=list(range(len(keys)))).mean()
    rows = []
    members = frame.groupby(keys, sort=False)["product_id"].unique()
    for key, products in members.items():
        key = key if isinstance(key, tuple) else (key,)
        origin = history.day_index(np.datetime64(pd.Timestamp(key[0]).date(), "D"))
        p = index.get_indexer(products)
        first = int(history.products["available_from"].to_numpy()[p].min())
        window = slice(max(origin - 27, 0), origin + 1)
        revenue = history.gross[p, window].sum() - history.discount[p, window].sum()
        scale = naive_scale(history.units[p, first:origin + 1].sum(axis=0))
        errors = mse.loc[key if len(key) > 1 else key[0]]
        rows.append({"forecast_origin_date": key[0], "weight": max(float(revenue), 0.0),
                     "scale": scale, **{m: np.sqrt(errors[m] / scale) for m in METHODS}})
    # A class with no product at an origin gives no rows, but still the columns.
    return pd.DataFrame(rows, columns=["forecast_origin_date", "weight", "scale", *METHODS])


def backtest_metrics(predictions: pd.DataFrame, series: pd.DataFrame,
                     history: DemandHistory) -> pd.DataFrame:
    """One row per origin ("all" and each), density class ("all" and each present) and
    method: WRMSSE (three levels) and its shop, category and product levels, mean RMSSE,
    WAPE, MAE, RMSE, bias; the p50 row adds the model's pinball losses and p10-p90
    coverage. `weight_share` is the class's share of the M5 weight."""
    scored = per_series(predictions, series)
    rows_class = predictions[["forecast_origin_date", "product_id"]].merge(
        series[["forecast_origin_date", "product_id", "density_class"]], how="left")
    predictions = predictions.assign(density_class=rows_class["density_class"].to_numpy())
    origins = [("all", None)] + [(str(pd.Timestamp(o).date()), o) for o in
                                 sorted(predictions["forecast_origin_date"].unique())]
    shares = _weight_shares(scored)
    rows = []
    for origin_name, origin in origins:
        in_origin = (predictions["forecast_origin_date"] == origin if origin is not None
                     else pd.Series(True, index=predictions.index))
        s_origin = (scored["forecast_origin_date"] == origin if origin is not None
                    else pd.Series(True, index=scored.index))
        total = shares[s_origin].sum()
        for name in ("all", *[c for c in CLASSES if (scored["density_class"] == c).any()]):
            group = predictions[in_origin & ((predictions["density_class"] == name)
                                             | (name == "all"))]
            s_group = s_origin & ((scored["density_class"] == name) | (name == "all"))
            quantile_metrics = _quantile_metrics(group)
            levels = {level: level_rmsse(group, history, by) for level, by in
                      (("shop", []), ("category", ["category"]))}
            level_shares = {level: _weight_shares(frame) for level, frame in levels.items()}
            for method, column in METHODS.items():
                by_level = {f"wrmsse_{level}": wrmsse(frame[method], level_shares[level])
                            for level, frame in levels.items()}
                by_level["wrmsse_product"] = wrmsse(scored.loc[s_group, method],
                                                    shares[s_group])
                rows.append({
                    "forecast_origin": origin_name, "density_class": name, "method": method,
                    "wrmsse": float(np.mean(list(by_level.values()))), **by_level,
                    "rmsse_mean": float(np.nanmean(scored.loc[s_group, method]))
                    if scored.loc[s_group, method].notna().any() else float("nan"),
                    **forecast_metrics(group["actual_units"], group[column]),
                    "products": int(s_group.sum()),
                    "weight_share": float(shares[s_group].sum() / total) if total > 0
                    else float("nan"),
                    **(quantile_metrics if method == "lightgbm_p50" else
                       dict.fromkeys(quantile_metrics, float("nan"))),
                })
    return pd.DataFrame(rows)


def _weight_shares(scored: pd.DataFrame) -> pd.Series:
    """Each series' weight as a share of its origin's total, so origins count equally. A
    series without a scale (it never changed up to the origin) has no RMSSE and no share:
    counted in its origin's total, it would make that origin count less than the others."""
    weight = scored["weight"].where(scored["scale"].notna(), 0.0)
    totals = weight.groupby(scored["forecast_origin_date"]).transform("sum")
    return (weight / totals.where(totals > 0)).fillna(0.0)


def _quantile_metrics(group: pd.DataFrame) -> dict[str, float]:
    actual = group["actual_units"]
    out = {f"pinball_{column.removesuffix('_units')}": pinball_loss(actual, group[column], tau)
           for column, tau in QUANTILES.items()}
    # Share of actuals inside [p10, p90] (nominally 80%; an actual equal to a bound is in),
    # and below p10 / above p90 (nominally at most 10% each for count data).
    out["p10_p90_coverage"] = float(actual.between(group["p10_units"], group["p90_units"]).mean())
    out["below_p10_share"] = float((actual < group["p10_units"]).mean())
    out["above_p90_share"] = float((actual > group["p90_units"]).mean())
    out["quantile_calibration_error"] = quantile_calibration_error(group)
    return out


def quantile_calibration_error(group: pd.DataFrame) -> float:
    """Mean over p10, p50 and p90 of how far tau lies outside [share of actuals below the
    quantile, share at or below it]: 0 when every quantile is calibrated. For count data a
    tau-quantile q is right when P(y < q) <= tau <= P(y <= q), so on a product that sells
    on 3% of days p10 = p50 = p90 = 0 is right and its [p10, p90] holds 97% of the actuals:
    the raw coverage cannot reach 80% there, this measure can reach 0. NaN without rows."""
    actual = group["actual_units"].to_numpy(dtype=np.float64)
    if len(actual) == 0:
        return float("nan")
    gaps = []
    for column, tau in QUANTILES.items():
        q = group[column].to_numpy(dtype=np.float64)
        below, at_or_below = float((actual < q).mean()), float((actual <= q).mean())
        gaps.append(max(below - tau, tau - at_or_below, 0.0))
    return float(np.mean(gaps))


def summary(metrics: pd.DataFrame) -> dict[str, dict]:
    """Per density class over all origins: the point forecast's WRMSSE, the best baseline
    and its WRMSSE, and how much lower the model's is (positive: better)."""
    overall = metrics[metrics["forecast_origin"] == "all"]
    out = {}
    for name, group in overall.groupby("density_class", sort=False):
        by_method = group.set_index("method")
        baselines = by_method.loc[list(BASELINES), "wrmsse"].dropna()
        model = float(by_method.loc[POINT, "wrmsse"])
        if baselines.empty or np.isnan(model):
            continue
        best = str(baselines.idxmin())
        out[name] = {"wrmsse": model, "best_baseline": best,
                     "best_baseline_wrmsse": float(baselines[best]),
                     "improvement": float(1 - model / baselines[best]),
                     "weight_share": float(by_method.loc[POINT, "weight_share"]),
                     "products": int(by_method.loc[POINT, "products"])}
    return out


def headline(version: str, metrics: pd.DataFrame) -> str:
    """One line: the point forecast's WRMSSE against the best baseline, overall and per
    class, e.g. "demand model abc: WRMSSE 0.81 vs best baseline tsb 0.93 (13% better); ..."."""
    parts = summary(metrics)
    if "all" not in parts:
        return f"demand model {version}: no product with a sale and revenue to score WRMSSE on"
    head = parts.pop("all")

    def words(s: dict) -> str:
        change = s["improvement"]
        return (f"{s['wrmsse']:.2f} vs {s['best_baseline']} {s['best_baseline_wrmsse']:.2f} "
                f"({abs(change):.0%} {'better' if change >= 0 else 'worse'})")

    classes = "; ".join(f"{name} {words(s)}" for name, s in parts.items())
    overall = words(head).replace(" vs ", " vs best baseline ", 1)
    return (f"demand model {version}: expected-units WRMSSE {overall}"
            + (f"; {classes}" if classes else ""))
