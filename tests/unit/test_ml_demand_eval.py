"""The backtest's metrics on a two-product history worked out by hand: product-level RMSSE
and WRMSSE, the best baseline, and a forecast of zeros winning nothing."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml import demand_eval
from ml.demand_data import DemandHistory

START = np.datetime64(date(2025, 1, 6), "D")


def _history() -> DemandHistory:
    """P0 sells 2, 0, 2, 0... (ADI 2, CV² 0: intermittent); P1 sells 1 every day (dense).
    Days 0..9 are history, 10..11 the horizon; price 10 a unit, no discount."""
    units = np.array([[2, 0] * 6, [1] * 12], dtype=float)
    products = pd.DataFrame({"product_id": ["P0", "P1"], "category": ["A", "A"],
                             "list_price": [10.0, 10.0], "is_active": [True, True],
                             "available_from": [0, 0]})
    return DemandHistory(start=START, end=START + 11, products=products, units=units,
                         gross=units * 10, discount=np.zeros_like(units),
                         campaigns=pd.DataFrame({"start_day": [], "end_day": [],
                                                 "is_demand_type": []}))


def _predictions(history: DemandHistory, model: dict[str, list[float]]) -> pd.DataFrame:
    origin = 9
    rows = []
    for p, product in enumerate(["P0", "P1"]):
        for h in (1, 2):
            rows.append({"product_id": product, "forecast_origin_date": history.date_of(origin),
                         "forecast_date": history.date_of(origin + h), "horizon_day": h,
                         "actual_units": history.units[p, origin + h],
                         "mean_units": model[product][h - 1], "p10_units": 0.0,
                         "p50_units": model[product][h - 1], "p90_units": 3.0,
                         "zero_units": 0.0,
                         "seasonal_naive_units": history.units[p, origin + h - 7],
                         "moving_average_28d_units": history.units[p, :origin + 1].mean(),
                         "croston_sba_units": 1.0, "tsb_units": 1.0})
    frame = pd.DataFrame(rows)
    frame["forecast_origin_date"] = pd.to_datetime(frame["forecast_origin_date"])
    frame["forecast_date"] = pd.to_datetime(frame["forecast_date"])
    return frame


def _metrics(model):
    history = _history()
    predictions = _predictions(history, model)
    series = demand_eval.series_table(history, 9)
    return series, demand_eval.backtest_metrics(predictions, series, history)


def test_product_level_rmsse_and_wrmsse_by_hand():
    series, metrics = _metrics({"P0": [2.0, 0.0], "P1": [0.0, 0.0]})
    # P0: history 2,0,2,...,0 -> every change is ±2 -> scale 4; P1: constant -> no scale.
    assert list(series["scale"].fillna(-1)) == [4.0, -1]
    assert list(series["density_class"]) == ["intermittent", "dense"]
    # 28-day window clipped to days 0..9: P0 5 days x 2 units, P1 10 x 1, at 10 a unit.
    assert list(series["weight"]) == [100.0, 100.0]
    rows = metrics[(metrics["forecast_origin"] == "all") & (metrics["density_class"] == "all")]
    by = rows.set_index("method")
    # Actuals on days 10, 11: P0 2, 0. Only P0 has a scale, so it carries all the weight.
    # Model exact -> 0; zero: sqrt((4 + 0) / 2 / 4) = sqrt(0.5); SBA/TSB 1: sqrt(1 / 4).
    assert by.loc["lightgbm_mean", "wrmsse_product"] == pytest.approx(0.0)
    assert by.loc["zero", "wrmsse_product"] == pytest.approx(np.sqrt(0.5))
    assert by.loc["tsb", "wrmsse_product"] == pytest.approx(0.5)
    # Shop level: the sum is 3, 1, 3, 1... -> scale 4; actual 3, 1; zero: sqrt(10 / 2 / 4).
    assert by.loc["zero", "wrmsse_shop"] == pytest.approx(np.sqrt(10 / 8))
    assert by.loc["lightgbm_p50", "p10_p90_coverage"] == pytest.approx(1.0)
    # p10 = 0, p90 = 3 on actuals 2, 0, 1, 1: pinball at 0.9 is 0.1 * (3 - y) each.
    assert by.loc["lightgbm_p50", "pinball_p90"] == pytest.approx(0.1 * (1 + 3 + 2 + 2) / 4)


def test_a_forecast_of_zeros_wins_nothing():
    _, metrics = _metrics({"P0": [0.0, 0.0], "P1": [0.0, 0.0]})
    summary = demand_eval.summary(metrics)
    assert summary["all"]["improvement"] <= 0
    # A forecast of zeros is scored exactly like the zero baseline, whose WAPE is 1.
    rows = metrics[(metrics["forecast_origin"] == "all") & (metrics["density_class"] == "all")]
    by = rows.set_index("method")
    assert by.loc["lightgbm_mean", "wrmsse"] == pytest.approx(by.loc["zero", "wrmsse"])
    assert by.loc["lightgbm_mean", "wape"] == pytest.approx(1.0)
    assert "worse" in demand_eval.headline("v", metrics) or summary["all"]["improvement"] == 0


def test_quantile_calibration_error_by_hand():
    # Ten product-days: nine zeros and one 2; every quantile forecast is 0.
    # p10 and p50: share below 0 is 0, at or below 0.9 -> tau inside [0, 0.9]: 0.
    # p90: [0, 0.9] holds 0.9: 0. So 0 although [p10, p90] holds 90% of the actuals.
    zeros = pd.DataFrame({"actual_units": [0] * 9 + [2], "p10_units": 0.0, "p50_units": 0.0,
                          "p90_units": 0.0})
    assert demand_eval.quantile_calibration_error(zeros) == pytest.approx(0.0)
    # Actuals 0, 1, 2, 3 with p10 = 1, p50 = 1, p90 = 1: p10 bracket [0.25, 0.5] -> 0.15;
    # p50 [0.25, 0.5] -> 0; p90 [0.25, 0.5] -> 0.4. Mean (0.15 + 0 + 0.4) / 3.
    ones = pd.DataFrame({"actual_units": [0, 1, 2, 3], "p10_units": 1.0, "p50_units": 1.0,
                         "p90_units": 1.0})
    assert demand_eval.quantile_calibration_error(ones) == pytest.approx(0.55 / 3)
    assert np.isnan(demand_eval.quantile_calibration_error(ones.iloc[:0]))


def test_origins_count_equally_when_a_series_has_no_scale_yet():
    """P0 sells 2, 0, 2, 0... (scale 4 at every origin); P1 sells one unit on day 8 only, so
    at origin 8 it has revenue but no change yet (no scale, no RMSSE), at origin 9 a scale of
    1. "all" is the mean of the origins' WRMSSE: a series without a scale must not make its
    origin count less."""
    units = np.array([[2, 0] * 6, [0] * 8 + [1, 0, 0, 0]], dtype=float)
    products = pd.DataFrame({"product_id": ["P0", "P1"], "category": ["A", "A"],
                             "list_price": [10.0, 10.0], "is_active": [True, True],
                             "available_from": [0, 0]})
    history = DemandHistory(start=START, end=START + 11, products=products, units=units,
                            gross=units * 10, discount=np.zeros_like(units),
                            campaigns=pd.DataFrame({"start_day": [], "end_day": [],
                                                    "is_demand_type": []}))
    rows = [{"product_id": product, "forecast_origin_date": history.date_of(origin),
             "forecast_date": history.date_of(origin + h), "horizon_day": h,
             "actual_units": units[p, origin + h], **dict.fromkeys(
                 ["mean_units", "p10_units", "p50_units", "p90_units", "zero_units",
                  "seasonal_naive_units", "moving_average_28d_units", "croston_sba_units",
                  "tsb_units"], 0.0)}
            for origin in (8, 9) for p, product in enumerate(["P0", "P1"]) for h in (1, 2)]
    predictions = pd.DataFrame(rows)
    for column in ("forecast_origin_date", "forecast_date"):
        predictions[column] = pd.to_datetime(predictions[column])
    series = pd.concat([demand_eval.series_table(history, origin) for origin in (8, 9)])
    metrics = demand_eval.backtest_metrics(predictions, series, history)
    zero = metrics[(metrics["density_class"] == "all") & (metrics["method"] == "zero")
                   ].set_index("forecast_origin")["wrmsse_product"]
    # Origin 8: only P0 (actuals 0, 2): sqrt(4 / 2 / 4). Origin 9: P0 (actuals 2, 0) the
    # same, weight 100 (five sales of 2 at 10 in days 0-9); P1 (actuals 0, 0) RMSSE 0, weight 10.
    assert zero["2025-01-14"] == pytest.approx(np.sqrt(0.5))
    assert zero["2025-01-15"] == pytest.approx(100 * np.sqrt(0.5) / 110)
    assert zero["all"] == pytest.approx((np.sqrt(0.5) + 100 * np.sqrt(0.5) / 110) / 2)
