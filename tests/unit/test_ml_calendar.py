"""The festival calendar for future dates (ml/calendar.py); its agreement with
marts.dim_date on every day of a built warehouse is checked in test_ml_assets.py."""

from __future__ import annotations

from datetime import date

import numpy as np

from ml.calendar import days_until_festivals, festival_name


def test_festivals_on_their_days():
    assert festival_name(date(2026, 11, 11)) == "double_11"
    assert festival_name(date(2026, 6, 18)) == "618"
    # Black Friday: the fourth Friday of November; Cyber Monday three days later.
    assert festival_name(date(2025, 11, 28)) == "black_friday"
    assert festival_name(date(2025, 12, 1)) == "cyber_monday"
    assert festival_name(date(2026, 11, 27)) == "black_friday"
    assert festival_name(date(2026, 11, 30)) == "cyber_monday"
    assert festival_name(date(2026, 11, 20)) is None  # third Friday
    assert festival_name(date(2026, 11, 23)) is None  # Monday after the third Friday


def test_days_until_each_festival_capped():
    days = np.array(["2026-11-01", "2026-11-11", "2026-11-12"], dtype="datetime64[D]")
    until = days_until_festivals(days, cap=60)
    # columns: double_11, 618, black_friday, cyber_monday
    assert until.tolist() == [[10, 60, 26, 29], [0, 60, 16, 19], [60, 60, 15, 18]]
