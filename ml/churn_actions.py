"""What a marketer reads beside a churn score: risk tier, top reasons and a win-back action.

Risk tier (settings): high when the churn probability is at least `high_risk` (0.75),
medium from `medium_risk` (0.5), else low.

Top reasons: the three features that push this customer's score furthest towards churn
(TreeSHAP contributions from LightGBM's `pred_contrib`), phrased with the customer's value.

Suggested action (first rule that matches). Messages (email, SMS, push) go only to customers
who opted in to marketing; the others get at most an on-site offer, which sends nothing:
| risk   | opted in | also                         | action                                        |
|--------|----------|------------------------------|-----------------------------------------------|
| low    | any      |                              | no action                                     |
| any    | no       |                              | no message (not opted in): on-site offer ...  |
| high   | yes      | high value (top 20% revenue) | personal win-back message with a VIP offer    |
| any    | yes      | a rating reason in the top 3 | service follow-up message about recent orders |
| high   | yes      |                              | win-back coupon message                       |
| medium | yes      |                              | re-engagement message with recommendations    |
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REASON_TEMPLATES = {
    "recency_days": "no order for {v:.0f} days",
    "tenure_days": "customer for {v:.0f} days",
    "customer_age_days": "first order {v:.0f} days ago",
    "order_count": "{v:.0f} orders in total",
    "order_days": "bought on {v:.0f} different days",
    "orders_30d": "{v:.0f} orders in the last 30 days",
    "orders_90d": "{v:.0f} orders in the last 90 days",
    "orders_91_180d": "{v:.0f} orders in the 90 days before that",
    "orders_365d": "{v:.0f} orders in the last year",
    "order_trend_90d": "{v:+.0f} orders against the previous 90 days",
    "mean_days_between_orders": "usually orders every {v:.0f} days",
    "overdue_ratio": "last order {v:.1f}x their usual gap ago",
    "revenue_total": "{v:,.0f} spent in total",
    "revenue_365d": "{v:,.0f} spent in the last year",
    "average_order_value": "average order of {v:,.0f}",
    "coupon_order_share": "{v:.0%} of orders with a coupon",
    "campaign_order_share": "{v:.0%} of orders from campaigns",
    "sessions_30d": "{v:.0f} visits in the last 30 days",
    "sessions_31_90d": "{v:.0f} visits in the 60 days before",
    "session_trend": "visiting at {v:.1f}x the earlier rate",
    "days_since_last_session": "no visit for {v:.0f} days",
    "product_views_30d": "{v:.0f} product views in the last 30 days",
    "carts_30d": "{v:.0f} add-to-carts in the last 30 days",
    "events_90d": "{v:.0f} site or app actions in the last 90 days",
    "review_count": "{v:.0f} reviews written",
    "rating_mean": "average rating {v:.1f} stars",
    "rating_mean_90d": "recent ratings average {v:.1f} stars",
    "rating_trend": "ratings {v:+.1f} stars against earlier ones",
    "negative_reviews_90d": "{v:.0f} negative reviews in the last 90 days",
    "campaigns_assigned": "targeted by {v:.0f} campaigns",
    "campaign_open_share": "opened {v:.0%} of campaign messages",
    "campaign_click_share": "clicked {v:.0%} of campaign messages",
    "campaign_conversion_share": "bought after {v:.0%} of campaigns",
    "acquisition_channel": "acquired via {v}",
    "membership_level": "{v} member",
}
MISSING_TEMPLATES = {
    "mean_days_between_orders": "has ordered on one day only",
    "overdue_ratio": "has ordered on one day only",
    "days_since_last_session": "no visit in the last year",
    "rating_mean": "has never rated a product",
    "rating_mean_90d": "no rating in the last 90 days",
    "rating_trend": "no rating trend yet",
}
RATING_FEATURES = {"rating_mean", "rating_mean_90d", "rating_trend", "negative_reviews_90d"}
NO_ACTION = "no action"
NOT_OPTED_IN = "no message (not opted in): on-site offer at the next visit"


def risk_tier(probability, high: float, medium: float) -> np.ndarray:
    probability = np.asarray(probability)
    return np.select([probability >= high, probability >= medium], ["high", "medium"], "low")


def top_reasons(frame: pd.DataFrame, contributions: np.ndarray, features: list[str],
                count: int = 3) -> list[list[str]]:
    """Per customer, the features with the largest positive contributions, in words."""
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :count]
    # Plain arrays: reading a pandas cell per phrase costs more than the phrase.
    values = {feature: frame[feature].to_numpy(dtype=object) for feature in
              {features[c] for c in np.unique(order)}}
    if "acquisition_channel" in values and "acquisition_channel_name" in frame:
        values["acquisition_channel"] = frame["acquisition_channel_name"].to_numpy(dtype=object)
    reasons = []
    for row, columns in enumerate(order):
        phrases = [_phrase(features[c], values[features[c]][row]) for c in columns
                   if contributions[row, c] > 0]
        reasons.append(phrases)
    return reasons


def reason_features(contributions: np.ndarray, features: list[str], count: int = 3
                    ) -> list[set[str]]:
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :count]
    return [{features[c] for c in columns if contributions[row, c] > 0}
            for row, columns in enumerate(order)]


def suggested_action(tier: str, opted_in: bool, high_value: bool, reasons: set[str]) -> str:
    if tier == "low":
        return NO_ACTION
    if not opted_in:
        return NOT_OPTED_IN
    if tier == "high" and high_value:
        return "personal win-back message with a VIP offer"
    if reasons & RATING_FEATURES:
        return "service follow-up message about recent orders"
    if tier == "high":
        return "win-back coupon message"
    return "re-engagement message with recommendations"


def _phrase(feature: str, value) -> str:
    if feature == "is_marketing_opt_in":
        return "opted in to marketing" if value else "not opted in to marketing"
    if pd.isna(value):
        return MISSING_TEMPLATES.get(feature, f"no {feature.replace('_', ' ')}")
    return REASON_TEMPLATES.get(feature, feature.replace("_", " ") + ": {v}").format(v=value)
