"""Features of the direct multi-horizon demand forecast.

One row per (forecast origin o, product, horizon day h); the target is the product's demand
on day t = o + h, h = 1..28. Every feature is either
- a statistic of the product's (or its category's, or the shop's) daily demand, price or
  discount over a window that ends on or before the origin o, or
- a fact about the target date t that is known in advance: its calendar, festivals, and the
  campaigns that had started by the origin and are scheduled to run on t.
So no feature reads a day after the origin, whatever the horizon: windows are built from
prefix sums indexed at most at o (tested by deleting the days after it), and "same weekday"
and "last year" lookups step back in whole weeks until they land on or before o.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import FESTIVALS, days_until_festivals, festival_codes
from .demand_data import DemandHistory
from .intermittent import Smoothed, smooth

PROMO_SHARE = 0.05  # a day with a line discount over 5% of gross counts as a promotion day
WINDOWS = (7, 14, 28, 91, 364)
CATEGORICAL = ["category_code", "target_festival"]
FEATURES = (
    ["horizon_day", "category_code", "list_price", "days_available", "units_last_1d",
     *[f"units_mean_{w}d" for w in WINDOWS], "trend_28d_vs_91d", "zero_day_share_28d",
     "days_since_last_sale", "discount_share_3d", "discount_share_7d", "discount_share_28d",
     "discount_share_last_sale", "promo_days_14d", "price_index_28d",
     "category_mean_7d", "category_mean_28d", "shop_mean_7d", "shop_mean_28d",
     "category_share_28d", "tsb_forecast", "sba_forecast", "tsb_probability", "demand_size",
     "same_weekday_last", "same_weekday_mean_4w", "shop_same_weekday_ratio",
     "last_year_mean_7d", "category_last_year_ratio", "shop_last_year_ratio",
     "target_iso_dow", "target_day_of_month", "target_month", "target_day_of_year",
     "target_festival", *[f"days_until_{f}" for f in FESTIVALS],
     "campaigns_active", "demand_campaigns_active"]
)


@dataclass(frozen=True)
class Prefix:
    """Prefix sums over days (column d+1 holds the sum of days 0..d) for O(1) windows."""

    units: np.ndarray
    gross: np.ndarray
    discount: np.ndarray
    sale_days: np.ndarray
    promo_days: np.ndarray
    available: np.ndarray  # the product's counted days (`_counted_from`)
    category_units: np.ndarray
    category_available: np.ndarray
    shop_daily_mean: np.ndarray  # units per available product, per day
    last_sale: np.ndarray  # (products, days): last day <= d with a sale, -1 if none
    category_code: np.ndarray
    smoothed: Smoothed  # Croston/SBA/TSB state after each day (intermittent.py)


def prefix_sums(history: DemandHistory) -> Prefix:
    units = history.units
    days = np.arange(history.days)
    available = (days[None, :] >= history.products["available_from"].to_numpy()[:, None])
    # A product's own daily means count its days from where its first interval counts from:
    # for one without a launch date the history's first day, not its first sale (which
    # would make one sale 3 days ago a rate of 1/4 a day; intermittent.py). The category's
    # and shop's means keep the available products.
    counted_from = _counted_from(history)
    counted = days[None, :] >= counted_from[:, None]
    codes = pd.Categorical(history.products["category"]).codes.astype(np.int64)
    n_cat = codes.max() + 1
    cat_units = np.zeros((n_cat, history.days))
    cat_avail = np.zeros((n_cat, history.days))
    np.add.at(cat_units, codes, units)
    np.add.at(cat_avail, codes, available)
    with np.errstate(invalid="ignore", divide="ignore"):
        promo = np.where(history.gross > 0, history.discount / history.gross, 0) > PROMO_SHARE
        shop_mean = units.sum(axis=0) / np.maximum(available.sum(axis=0), 1)
    last_sale = np.maximum.accumulate(np.where(units > 0, days[None, :], -1), axis=1)
    return Prefix(
        units=_cumsum(units), gross=_cumsum(history.gross), discount=_cumsum(history.discount),
        sale_days=_cumsum(units > 0), promo_days=_cumsum(promo), available=_cumsum(counted),
        category_units=_cumsum(cat_units), category_available=_cumsum(cat_avail),
        shop_daily_mean=shop_mean, last_sale=last_sale, category_code=codes,
        smoothed=smooth(units, history.products["available_from"].to_numpy(),
                        counted_from=counted_from),
    )


def _counted_from(history: DemandHistory) -> np.ndarray:
    """The day each product's own rates count from: its first day available (launch or first
    sale) when it has a launch date, else the history's first day. A history without
    `has_launch_date` (built by hand) counts every product as launched."""
    available = history.products["available_from"].to_numpy()
    launched = (history.products["has_launch_date"].to_numpy(dtype=bool)
                if "has_launch_date" in history.products else np.ones(len(available), bool))
    return np.where(launched, available, 0)


def feature_frame(history: DemandHistory, prefix: Prefix, origin: np.ndarray,
                  product: np.ndarray, horizon: np.ndarray) -> pd.DataFrame:
    """Features of the rows (origin day index, product index, horizon day)."""
    o, p, h = (np.asarray(a, dtype=np.int64) for a in (origin, product, horizon))
    if len(o) and (o.max() >= history.days or h.min() < 1 or h.max() > 300):
        raise ValueError("origins must be days with data and horizons within 1..300 days")
    t = o + h
    k = prefix.category_code[p]
    f: dict[str, np.ndarray] = {"horizon_day": h, "category_code": k,
                                "list_price": history.products["list_price"].to_numpy()[p]}
    f["days_available"] = o - history.products["available_from"].to_numpy()[p] + 1
    f["units_last_1d"] = _window(prefix.units, p, o, o)
    for w in WINDOWS:
        f[f"units_mean_{w}d"] = _ratio(_window(prefix.units, p, o - w + 1, o),
                                       _window(prefix.available, p, o - w + 1, o))
    f["trend_28d_vs_91d"] = _ratio(f["units_mean_28d"], f["units_mean_91d"])
    avail_28 = _window(prefix.available, p, o - 27, o)
    f["zero_day_share_28d"] = _ratio(avail_28 - _window(prefix.sale_days, p, o - 27, o), avail_28)
    last = prefix.last_sale[p, o]
    f["days_since_last_sale"] = np.where(last >= 0, o - last, np.nan)
    for w in (3, 7, 28):
        f[f"discount_share_{w}d"] = _ratio(_window(prefix.discount, p, o - w + 1, o),
                                           _window(prefix.gross, p, o - w + 1, o))
    safe_last = np.maximum(last, 0)
    f["discount_share_last_sale"] = np.where(
        last >= 0, _ratio(_window(prefix.discount, p, safe_last, safe_last),
                          _window(prefix.gross, p, safe_last, safe_last)), np.nan)
    f["promo_days_14d"] = _window(prefix.promo_days, p, o - 13, o)
    net_28 = _window(prefix.gross, p, o - 27, o) - _window(prefix.discount, p, o - 27, o)
    f["price_index_28d"] = _ratio(_ratio(net_28, _window(prefix.units, p, o - 27, o)),
                                  f["list_price"])
    for w in (7, 28):
        f[f"category_mean_{w}d"] = _ratio(_window(prefix.category_units, k, o - w + 1, o),
                                          _window(prefix.category_available, k, o - w + 1, o))
        f[f"shop_mean_{w}d"] = _shop_mean(prefix, o - w + 1, o)
    # Hierarchy and intermittent-demand state: the product's share of its category, and
    # the Croston/SBA/TSB forecasts and TSB's sale probability as of the origin.
    f["category_share_28d"] = _ratio(f["units_mean_28d"], f["category_mean_28d"])
    smoothed = prefix.smoothed
    f["tsb_forecast"] = smoothed.tsb[p, o]
    f["sba_forecast"] = smoothed.sba[p, o]
    f["tsb_probability"] = smoothed.tsb_probability[p, o]
    f["demand_size"] = smoothed.size[p, o]
    f.update(_same_weekday(history, prefix, o, p, h))
    f.update(_last_year(prefix, o, p, k, t))
    f.update(_target_calendar(history, t))
    f.update(_campaigns(history, o, t))
    return pd.DataFrame({name: f[name] for name in FEATURES})


def _same_weekday(history: DemandHistory, prefix: Prefix, o, p, h) -> dict[str, np.ndarray]:
    """Demand on the target's weekday in the latest weeks known at the origin."""
    newest = o + h - 7 * ((h + 6) // 7)  # latest same weekday on or before the origin
    lags = [_value(history.units, p, newest - 7 * j) for j in range(4)]
    shop_weekday = np.nanmean(
        np.stack([_shop_value(prefix, newest - 7 * j) for j in range(8)]), axis=0)
    return {"same_weekday_last": lags[0],
            "same_weekday_mean_4w": np.nanmean(np.stack(lags), axis=0),
            "shop_same_weekday_ratio": _ratio(shop_weekday, _shop_mean(prefix, o - 55, o))}


def _last_year(prefix: Prefix, o, p, k, t) -> dict[str, np.ndarray]:
    """Last year's demand around the target (52 weeks back, a 7-day window), and how much the
    category and the shop moved last year from the origin's 28 days to the target's week."""
    a, b = t - 367, t - 361
    base_a, base_b = o - 391, o - 364
    known = a >= 0
    product = _ratio(_window(prefix.units, p, a, b), _window(prefix.available, p, a, b))
    category = _ratio(
        _ratio(_window(prefix.category_units, k, a, b),
               _window(prefix.category_available, k, a, b)),
        _ratio(_window(prefix.category_units, k, base_a, base_b),
               _window(prefix.category_available, k, base_a, base_b)))
    shop = _ratio(_shop_mean(prefix, a, b), _shop_mean(prefix, base_a, base_b))
    known_base = base_a >= 0
    return {"last_year_mean_7d": np.where(known, product, np.nan),
            "category_last_year_ratio": np.where(known_base, category, np.nan),
            "shop_last_year_ratio": np.where(known_base, shop, np.nan)}


def _target_calendar(history: DemandHistory, t) -> dict[str, np.ndarray]:
    unique, inverse = np.unique(t, return_inverse=True)
    dates = history.date_of(unique)
    stamps = pd.DatetimeIndex(dates)
    until = days_until_festivals(dates)
    out = {"target_iso_dow": stamps.isocalendar().day.to_numpy(dtype=np.int64),
           "target_day_of_month": stamps.day.to_numpy(), "target_month": stamps.month.to_numpy(),
           "target_day_of_year": stamps.day_of_year.to_numpy(),
           "target_festival": festival_codes(dates).astype(np.int64) + 1}  # 0: none
    out.update({f"days_until_{name}": until[:, i] for i, name in enumerate(FESTIVALS)})
    return {name: values[inverse] for name, values in out.items()}


def _campaigns(history: DemandHistory, o, t) -> dict[str, np.ndarray]:
    """Campaigns that had started by the origin and are scheduled to run on the target day.
    A campaign that starts after the origin is not assumed known: the warehouse does not
    record when a campaign was planned."""
    camps = history.campaigns
    start, end = camps["start_day"].to_numpy(), camps["end_day"].to_numpy()
    demand = camps["is_demand_type"].to_numpy()
    pairs, inverse = np.unique(np.stack([o, t], axis=1), axis=0, return_inverse=True)
    active = ((start[None, :] <= pairs[:, :1]) & (start[None, :] <= pairs[:, 1:])
              & (end[None, :] >= pairs[:, 1:]))
    inverse = inverse.ravel()
    return {"campaigns_active": active.sum(axis=1)[inverse],
            "demand_campaigns_active": (active & demand[None, :]).sum(axis=1)[inverse]}


def _cumsum(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float64)
    pad = np.zeros(matrix.shape[:-1] + (1,))
    return np.concatenate([pad, np.cumsum(matrix, axis=-1)], axis=-1)


def _window(prefix: np.ndarray, row, a, b) -> np.ndarray:
    """Sum over days a..b (inclusive) of the rows, days before 0 counting as nothing."""
    a = np.clip(a, 0, None)
    b = np.clip(b, -1, None)  # a window ending before day 0 is empty, whatever its start
    total = prefix[row, b + 1] - prefix[row, np.minimum(a, b + 1)]
    return np.where(b >= a, total, 0.0)


def _value(matrix: np.ndarray, row, day) -> np.ndarray:
    return np.where(day >= 0, matrix[row, np.clip(day, 0, None)], np.nan)


def _shop_value(prefix: Prefix, day) -> np.ndarray:
    return np.where(day >= 0, prefix.shop_daily_mean[np.clip(day, 0, None)], np.nan)


def _shop_mean(prefix: Prefix, a, b) -> np.ndarray:
    sums = np.concatenate([[0.0], np.cumsum(prefix.shop_daily_mean)])
    b = np.clip(b, -1, None)
    a = np.minimum(np.clip(a, 0, None), b + 1)
    return _ratio(sums[b + 1] - sums[a], b - a + 1)


def _ratio(numerator, denominator) -> np.ndarray:
    """Ratio with a zero denominator as NaN (metrics.md: null, never zero or infinity)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1),
                        np.nan)
