"""The shop's festival calendar for dates the warehouse has not reached yet.

`marts.dim_date` names the festivals of every day with activity; a forecast needs them for
the next weeks too. `festival_name` mirrors the rule in dbt/models/marts/core/dim_date.sql,
and tests/unit/test_ml_calendar.py asserts that both agree on every day of a warehouse.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

FESTIVALS = ("double_11", "618", "black_friday", "cyber_monday")


def festival_name(day: date) -> str | None:
    """11.11, 6.18, Black Friday (fourth Friday of November), Cyber Monday (3 days later)."""
    if day.month == 11 and day.day == 11:
        return "double_11"
    if day.month == 6 and day.day == 18:
        return "618"
    if day.month == 11 and day.isoweekday() == 5 and 22 <= day.day <= 28:
        return "black_friday"
    friday = day - timedelta(days=3)
    if day.isoweekday() == 1 and friday.month == 11 and 22 <= friday.day <= 28:
        return "cyber_monday"
    return None


def festival_codes(days: np.ndarray) -> np.ndarray:
    """Index into FESTIVALS per day (datetime64[D]), -1 on ordinary days."""
    names = [festival_name(_as_date(d)) for d in days]
    return np.array([FESTIVALS.index(n) if n else -1 for n in names], dtype=np.int8)


def days_until_festivals(days: np.ndarray, cap: int = 60) -> np.ndarray:
    """Matrix (days x festivals): days until each festival's next occurrence (0 on the day),
    capped at `cap`. Pre-festival shopping shows as small values."""
    first, last = days.min(), days.max() + np.timedelta64(cap, "D")
    span = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
    codes = festival_codes(span)
    out = np.full((len(days), len(FESTIVALS)), cap, dtype=np.int16)
    offset = (days - first).astype(int)
    for f in range(len(FESTIVALS)):
        hits = np.flatnonzero(codes == f)
        if len(hits) == 0:
            continue
        nxt = np.searchsorted(hits, offset)
        found = nxt < len(hits)
        gap = hits[np.minimum(nxt, len(hits) - 1)] - offset
        out[:, f] = np.where(found, np.minimum(gap, cap), cap)
    return out


def _as_date(day: np.datetime64) -> date:
    return day.astype("datetime64[D]").item()
