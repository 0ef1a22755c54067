"""Demand calendar of the simulated shop: weekly and yearly seasonality and festivals."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

WEEKDAY_WEIGHT = np.array([0.92, 0.9, 0.94, 1.0, 1.08, 1.22, 1.18])  # Monday..Sunday


def black_friday(year: int) -> date:
    """Fourth Friday of November."""
    first = date(year, 11, 1)
    first_friday = first + timedelta(days=(4 - first.weekday()) % 7)
    return first_friday + timedelta(weeks=3)


def festival_boost(day: date) -> float:
    """Demand multiplier for shopping festivals: 11.11, 6.18, Black Friday, Cyber Monday."""
    if day.month == 11 and day.day == 11:
        return 4.0
    if day.month == 11 and 1 <= day.day <= 10:
        return 1.6
    if day.month == 6 and day.day == 18:
        return 3.0
    if day.month == 6 and 1 <= day.day <= 17:
        return 1.35
    bf = black_friday(day.year)
    if day == bf:
        return 2.8
    if day == bf + timedelta(days=3):
        return 1.9
    if day.month == 12 and 10 <= day.day <= 22:
        return 1.25
    return 1.0


def daily_weights(start: date, days: int) -> np.ndarray:
    """Relative order intensity per day: weekday x yearly wave x festivals x growth trend."""
    out = np.empty(days)
    for i in range(days):
        d = start + timedelta(days=i)
        yearly = 1.0 + 0.15 * np.cos(2 * np.pi * (d.timetuple().tm_yday - 350) / 365.25)
        trend = 1.0 + 0.3 * i / days
        out[i] = WEEKDAY_WEIGHT[d.weekday()] * yearly * festival_boost(d) * trend
    return out


CATEGORY_SEASON_PEAK = {  # day-of-year of each category's yearly peak and its amplitude
    "Apparel": (100, 0.25),
    "Electronics": (330, 0.3),
    "Beauty": (40, 0.15),
    "Home": (280, 0.15),
    "Food": (25, 0.3),
    "Sports": (180, 0.35),
    "Toys": (350, 0.5),
    "Books": (245, 0.2),
}


def category_weights(start: date, days: int, categories: list[str]) -> np.ndarray:
    """Matrix (days x categories) of seasonal multipliers per category."""
    doy = np.array([(start + timedelta(days=i)).timetuple().tm_yday for i in range(days)])
    cols = []
    for cat in categories:
        peak, amp = CATEGORY_SEASON_PEAK[cat]
        cols.append(1.0 + amp * np.cos(2 * np.pi * (doy - peak) / 365.25))
    return np.stack(cols, axis=1)
