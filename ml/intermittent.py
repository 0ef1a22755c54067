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
first interval is the days from `counted_from` to that sale (inclusive): for a product with
a launch date its launch (or first day available), for one without (available from its
first sale, which says nothing about the days before it) the history's first day. That is
the maximum-likelihood rate of one sale in the days the shop's data cover, the estimate of a
product that was on sale throughout; it understates a product launched unseen shortly
before its first sale, which only a launch date tells. Counting from the first sale instead
(an interval of 1) makes Croston/SBA forecast the first sale's size every day until the
next: on a long tail, where a third of the products sell once, that one error swamps the
rest; the category's pooled interval (its available product-days / days with a sale, as
known then) still overstates those products' rate twentyfold, since its fast sellers
dominate it (ml/README.md, sixth round).
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


def smooth(units: np.ndarray, start, alpha: float = 0.1, beta: float = 0.1,
           counted_from=None) -> Smoothed:
    """Croston, SBA and TSB states of every product (rows of `units`) after every day;
    `start` is each product's first available day (days before it are ignored), and
    `counted_from` the day its first interval counts from (default `start`; at most it)."""
    units = np.atleast_2d(np.asarray(units, dtype=np.float64))
    n, days = units.shape
    start = np.broadcast_to(np.asarray(start, dtype=np.int64), (n,))
    counted_from = np.broadcast_to(
        np.asarray(start if counted_from is None else counted_from, dtype=np.int64), (n,))
    if (counted_from > start).any():
        raise ValueError("counted_from must be on or before each product's start")
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
        span = t - counted_from[first] + 1
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
    from the day it became available: `density_class` of each row, computed for all rows at
    once (the sizes' variance from exact sums: the same classes for whole units)."""
    start = np.broadcast_to(np.asarray(start, dtype=np.int64), (units.shape[0],))
    first = max(origin - window + 1, 0)
    block = np.asarray(units[:, first:origin + 1], dtype=np.float64)
    offset = np.maximum(start - first, 0)  # the window's first column of each product
    inside = np.arange(block.shape[1])[None, :] >= offset[:, None]
    sizes = np.where(inside & (block > 0), block, 0.0)
    days = np.maximum(block.shape[1] - offset, 0)
    count = (sizes > 0).sum(axis=1)
    total = sizes.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = days / count
        # Population variance over mean²: (n Σx² - (Σx)²) / (Σx)², n the days with demand.
        cv2 = (count * (sizes ** 2).sum(axis=1) - total ** 2) / total ** 2
    out = np.full(units.shape[0], "intermittent", dtype=object)
    out[(count > 1) & (cv2 >= CV2_CUT)] = "lumpy"
    out[adi < ADI_CUT] = "dense"
    out[count == 0] = "no_sales"
    return out.astype(str)
