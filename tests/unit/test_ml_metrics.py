"""Forecast and churn metrics on numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ml.metrics import (
    auc_by_weights,
    calibration_error,
    classification_metrics,
    forecast_metrics,
    naive_scale,
    pinball_loss,
    reliability,
    rmsse,
    score_ties,
    top_decile_lift,
    weighted_roc_auc,
    wrmsse,
)


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


def test_rmsse_and_wrmsse_by_hand():
    # In-sample from the first sale: 2, 0, 4 -> changes -2, +4 -> scale (4 + 16) / 2 = 10.
    scale = naive_scale([0, 2, 0, 4])
    assert scale == pytest.approx(10.0)
    # Errors -1, +2 -> mean square 2.5 -> sqrt(2.5 / 10) = 0.5.
    assert rmsse([1, 3], [2, 1], scale) == pytest.approx(0.5)
    assert math.isnan(naive_scale([0, 0, 0])) and math.isnan(naive_scale([0, 3, 3, 3]))
    # The NaN series drops out; weights 3 and 1 renormalise: (1.5 + 1) / 4.
    assert wrmsse([0.5, 1.0, float("nan")], [3, 1, 5]) == pytest.approx(0.625)
    assert math.isnan(wrmsse([0.5], [0]))


def test_pinball_loss_by_hand():
    # y - q = -1, 1, 4 at tau 0.9: 0.1, 0.9, 3.6.
    assert pinball_loss([0, 2, 5], [1, 1, 1], 0.9) == pytest.approx(4.6 / 3)
    assert pinball_loss([0, 2, 5], [1, 1, 1], 0.5) == pytest.approx(3 / 3)


def test_reliability_and_calibration_error_by_hand():
    label, probability = [0, 1, 1, 0], [0.05, 0.15, 0.95, 0.85]
    table = reliability(label, probability)
    assert list(table["bin"]) == [0, 1, 8, 9]
    # |0 - 0.05|, |1 - 0.15|, |0 - 0.85|, |1 - 0.95| over 4 customers.
    assert calibration_error(label, probability) == pytest.approx(1.8 / 4)


def test_weighted_roc_auc_by_hand_and_against_sklearn():
    # Churned scores 0.9 (w 2) and 0.5 (w 1); retained 0.5 (w 1) and 0.1 (w 3). Pairs,
    # weighted: (0.9, 0.5) 2x1 right, (0.9, 0.1) 2x3 right, (0.5, 0.5) 1x1 tie (half),
    # (0.5, 0.1) 1x3 right: (2 + 6 + 0.5 + 3) / (3 x 4) = 11.5 / 12.
    label, score, weight = [1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1], [2, 1, 1, 3]
    assert weighted_roc_auc(label, score, weight) == pytest.approx(11.5 / 12)
    rng = np.random.default_rng(3)
    label = rng.random(400) < 0.3
    score = np.round(rng.random(400) + 0.4 * label, 1)  # many ties
    weight = rng.poisson(1.0, 400)
    assert weighted_roc_auc(label, score, weight) == pytest.approx(
        roc_auc_score(label, score, sample_weight=weight))
    assert weighted_roc_auc(label, score, np.ones(400)) == pytest.approx(
        roc_auc_score(label, score))
    # Several weight sets at once give each set's AUC.
    sets = rng.poisson(1.0, (3, 400))
    np.testing.assert_allclose(auc_by_weights(*score_ties(label, score), sets),
                               [roc_auc_score(label, score, sample_weight=w) for w in sets])
