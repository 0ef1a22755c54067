"""Risk tiers, reasons in words, and the win-back rules (table in ml/churn_actions.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.churn_actions import (
    NO_ACTION,
    NOT_OPTED_IN,
    reason_features,
    risk_tier,
    suggested_action,
    top_reasons,
)


def test_risk_tiers_at_the_thresholds():
    tiers = risk_tier([0.1, 0.5, 0.74, 0.75, 0.99], high=0.75, medium=0.5)
    assert tiers.tolist() == ["low", "medium", "medium", "high", "high"]


def test_messages_only_for_customers_who_opted_in():
    assert suggested_action("high", False, True, set()) == NOT_OPTED_IN
    assert suggested_action("medium", False, False, {"rating_trend"}) == NOT_OPTED_IN
    assert suggested_action("low", True, True, set()) == NO_ACTION
    assert suggested_action("high", True, True, set()).startswith("personal win-back")
    assert suggested_action("high", True, False, {"rating_trend"}).startswith("service")
    assert suggested_action("high", True, False, {"recency_days"}) == "win-back coupon message"
    assert suggested_action("medium", True, False, set()).startswith("re-engagement")


def test_top_reasons_are_the_strongest_pushes_towards_churn_in_words():
    features = ["recency_days", "sessions_30d", "rating_mean_90d", "acquisition_channel"]
    frame = pd.DataFrame({"recency_days": [120, 5], "sessions_30d": [0, 9],
                          "rating_mean_90d": [np.nan, 4.5], "acquisition_channel": ["CH01"] * 2,
                          "acquisition_channel_name": ["Google Ads"] * 2})
    contributions = np.array([[2.0, 0.5, 1.0, -0.3],   # recency, rating, sessions
                              [-1.0, -2.0, 0.1, 0.2]])  # only two push towards churn
    reasons = top_reasons(frame, contributions, features)
    assert reasons[0] == ["no order for 120 days", "no rating in the last 90 days",
                          "0 visits in the last 30 days"]
    assert reasons[1] == ["acquired via Google Ads", "recent ratings average 4.5 stars"]
    assert reason_features(contributions, features)[1] == {"acquisition_channel",
                                                           "rating_mean_90d"}
