"""Forecast and churn metrics on numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml.metrics import classification_metrics, forecast_metrics, top_decile_lift


def test_forecast_metrics_by_hand():
    m = forecast_metrics([0, 2, 4, 4], [1, 1, 4, 6])
    # errors +1, -1, 0, +2: |e| sum 4 over actual 10; e sum +2.
    assert m["wape"] == pytest.approx(0.4)
    assert m["bias"] == pytest.approx(0.2)
    assert m["mae"] == pytest.approx(1.0)
    assert m["rmse"] == pytest.approx(math.sqrt(6 / 4))
    assert math.isnan(forecast_metrics([0, 0], [1, 0])["wape"])  # no demand: null


def test_top_decile_lift_by_hand():
    label = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0] * 2)  # 20 customers, churn rate 0.2
    score = np.arange(20)[::-1].astype(float)  # customers 0 and 1 score highest
    assert top_decile_lift(label, score) == pytest.approx(1.0 / 0.2)  # both top-2 churned


def test_classification_metrics_without_a_probability_have_no_brier():
    m = classification_metrics([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3])
    assert m["roc_auc"] == 1.0 and math.isnan(m["brier"])
    m = classification_metrics([0, 1], [0.2, 0.6], [0.2, 0.6])
    assert m["brier"] == pytest.approx((0.04 + 0.16) / 2)
