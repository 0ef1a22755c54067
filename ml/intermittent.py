"""Intermittent demand: Syntetos-Boylan density classes and the Croston, SBA and TSB
forecasts, for every product and day at once (state after observing day t, so a forecast
made at origin o reads column o and nothing after it).

- Croston (1972): smooth the non-zero demand sizes z and the intervals q between them with
  the same alpha, updated only on days with demand; forecast z / q.
- SBA (Syntetos & Boylan 2005): Croston times (1 - alpha / 2), which removes its bias.
- TSB (Teunter, Syntetos & Babai 2011): smooth the demand probability every day (beta) and
  the size on days with demand (alpha); forecast probability times size. Unlike Croston it
  decays towards zero when a product stops selling.
All start at a product's first sale: size = that sale, probability = 1 / interval, and the
first interval is
- for a product with a launch date: the days from its launch to that sale (inclusive);
- for one without (available from its first sale, so the days before it say nothing): its
  group's (category's) pooled mean interval between demands as known at the end of that day,
  `group_interval` = the group's available product-days / its product-days with a sale, both
  counted over days <= t (`pooled_interval`). Its inverse is the group's mean daily sale
  probability per available product, the best guess of a product's rate when nothing but its
  group is known; the mean of the products' own intervals would weigh the rare sellers'
  long gaps and not their rates. Starting from 1 instead makes Croston/SBA forecast the first
  sale's size every day until the next sale: on a long tail, where a third of the products
  sell once, that one error swamps everything else (ml/README.md, fifth round).
Before the first sale every forecast is 0.

Classes (Syntetos, Boylan & Croston 2005) from ADI, the average days between demands, and
CV², the squared coefficient of variation of the non-zero sizes: dense (ADI < 1.32),
intermittent (ADI >= 1.32, CV² < 0.49), lumpy (ADI >= 1.32, CV² >= 0.49); products without a
sale in the window are `no_sales`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ADI_CUT, CV2_CUT = 1.32, 0.49
CLASSES = ("dense", "intermittent", "lumpy", "no_sales")


@dataclass(frozen=True)
class Smoothed:
    """(products, days) forecasts of any later day, as known at the end of each day."""

    croston: np.ndarray
    sba: np.ndarray
    tsb: np.ndarray
    tsb_probability: np.ndarray
    size: np.ndarray  # Croston's smoothed non-zero demand size


def pooled_interval(units: np.ndarray, start, group) -> np.ndarray:
    """(groups, days): each group's available product-days / product-days with a sale over
    days <= t (`group` = each product's group index, -1 for none); NaN where the group has
    had no sale yet. A product is available from its `start`."""
    units = np.atleast_2d(np.asarray(units, dtype=np.float64))
    n, days = units.shape
    start = np.broadcast_to(np.asarray(start, dtype=np.int64), (n,))
    group = np.broadcast_to(np.asarray(group, dtype=np.int64), (n,))
    keep = group >= 0
    groups = int(group.max()) + 1 if keep.any() else 0
    available = np.zeros((groups, days))
    sold = np.zeros((groups, days))
    np.add.at(available, group[keep], np.arange(days)[None, :] >= start[keep, None])
    np.add.at(sold, group[keep], units[keep] > 0)
    available, sold = available.cumsum(axis=1), sold.cumsum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sold > 0, available / sold, np.nan)


def smooth(units: np.ndarray, start, alpha: float = 0.1, beta: float = 0.1,
           group=None, group_interval: np.ndarray | None = None) -> Smoothed:
    """Croston, SBA and TSB states of every product (rows of `units`) after every day;
    `start` is each product's first available day (days before it are ignored). A product
    with `group` >= 0 starts its interval at `group_interval[group, t]` when its first sale
    is on day t (NaN there: the days since `start`, as a product with a launch date);
    `group` None or -1: the days since `start`."""
    units = np.atleast_2d(np.asarray(units, dtype=np.float64))
    n, days = units.shape
    start = np.broadcast_to(np.asarray(start, dtype=np.int64), (n,))
    group = np.broadcast_to(np.asarray(-1 if group is None else group, dtype=np.int64), (n,))
    if (group >= 0).any() and (group_interval is None or group_interval.shape[1] != days
                               or group.max() >= group_interval.shape[0]):
        raise ValueError("group_interval must have a row per group and a column per day")
    size, interval, last = np.zeros(n), np.ones(n), np.zeros(n, dtype=np.int64)
    prob, tsb_size = np.zeros(n), np.zeros(n)
    started = np.zeros(n, dtype=bool)
    out = {name: np.zeros((n, days)) for name in ("croston", "tsb", "tsb_probability", "size")}
    for t in range(days):
        y = units[:, t]
        available = t >= start
        demand = available & (y > 0)
        first = demand & ~started
        later = demand & started
        running = available & started  # TSB's probability moves every day after the first sale
        prob[running] += beta * ((y[running] > 0) - prob[running])
        size[later] += alpha * (y[later] - size[later])
        interval[later] += alpha * ((t - last[later]) - interval[later])
        tsb_size[later] += alpha * (y[later] - tsb_size[later])
        span = (t - start[first] + 1).astype(np.float64)
        pooled = group[first] >= 0
        if pooled.any():
            prior = group_interval[group[first][pooled], t]
            span[pooled] = np.where(np.isnan(prior), span[pooled], prior)
        size[first], tsb_size[first] = y[first], y[first]
        interval[first], prob[first] = span, 1.0 / span
        last[demand] = t
        started |= first
        out["croston"][:, t] = np.where(started, size / interval, 0.0)
        out["tsb"][:, t] = np.where(started, prob * tsb_size, 0.0)
        out["tsb_probability"][:, t] = np.where(started, prob, 0.0)
        out["size"][:, t] = np.where(started, size, 0.0)
    return Smoothed(croston=out["croston"], sba=out["croston"] * (1 - alpha / 2),
                    tsb=out["tsb"], tsb_probability=out["tsb_probability"], size=out["size"])


def adi_cv2(series: np.ndarray) -> tuple[float, float]:
    """ADI = days / days with demand; CV² = (std / mean)² of the non-zero sizes (population
    std). NaN when there is no demand (CV² also when only one)."""
    series = np.asarray(series, dtype=np.float64)
    sizes = series[series > 0]
    if len(sizes) == 0:
        return float("nan"), float("nan")
    cv2 = float(sizes.var() / sizes.mean() ** 2) if len(sizes) > 1 else float("nan")
    return len(series) / len(sizes), cv2


def density_class(series: np.ndarray) -> str:
    """Syntetos-Boylan class of one product's daily demand over a window."""
    adi, cv2 = adi_cv2(series)
    if np.isnan(adi):
        return "no_sales"
    if adi < ADI_CUT:
        return "dense"
    return "lumpy" if not np.isnan(cv2) and cv2 >= CV2_CUT else "intermittent"


def density_classes(units: np.ndarray, start, origin: int, window: int = 364) -> np.ndarray:
    """Class of every product from its demand in the `window` days up to `origin`, counted
    from the day it became available."""
    start = np.broadcast_to(np.asarray(start, dtype=np.int64), (units.shape[0],))
    first = np.maximum(origin - window + 1, 0)
    return np.array([density_class(units[p, max(first, start[p]): origin + 1])
                     for p in range(units.shape[0])])
